//! Loading the signing keys named by the configuration.

use super::StoreChoice;
use crate::config::{KeySourceConfig, SigningConfig};
use anyhow::{Context as _, bail};
use sigil_keys::{DevKeySource, FileKeySource, KeySource, SharedKeyRing};

/// Loads the key ring. The `dev` source is refused unless the store is embedded: a key
/// generated per process means every replica signs with its own key, and tokens from one
/// would fail to verify against another's JWKS.
pub async fn load(signing: &SigningConfig, store: &StoreChoice) -> anyhow::Result<SharedKeyRing> {
    let source: Box<dyn KeySource> = match (&signing.source, store) {
        (KeySourceConfig::Dev {}, StoreChoice::Embedded { data_dir }) => {
            Box::new(DevKeySource::new(data_dir.join("keys"), signing.algorithm))
        }
        (KeySourceConfig::Dev {}, StoreChoice::Cluster(_)) => bail!(
            "signing.source kind `dev` is for `sigil dev` only: it generates a key per \
             process, so replicas would sign with different keys and reject each other's \
             tokens. Give every replica the same keys with `source: {{ kind: file, path: DIR }}`"
        ),
        (KeySourceConfig::File { path }, _) => Box::new(FileKeySource::new(path.clone())),
    };
    SharedKeyRing::load(source.as_ref(), signing.algorithm)
        .await
        .context("loading signing keys")
}
