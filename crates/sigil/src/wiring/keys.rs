//! Loading the signing keys named by the configuration, and keeping them current.

use super::StoreChoice;
use crate::config::{KeySourceConfig, SigningConfig};
use anyhow::{Context as _, bail};
use sigil_keys::{
    DevKeySource, FileKeySource, KeyFileStore, KeyRefresher, KeySource, SharedKeyRing,
    SigningAlgorithms,
};
use std::sync::Arc;

/// The key ring, kept current by a refresher for as long as this lives.
pub struct LiveKeys {
    /// The shared ring requests sign with.
    pub ring: SharedKeyRing,
    /// Where the keys come from, in words.
    pub description: String,
    _refresher: KeyRefresher,
}

/// The key source the configuration names. The `dev` source is refused unless the store is
/// embedded: a key generated per process means every replica signs with its own key, and
/// tokens from one would fail to verify against another's JWKS.
pub async fn source(
    signing: &SigningConfig,
    algorithms: &SigningAlgorithms,
    store: &StoreChoice,
) -> anyhow::Result<Arc<dyn KeySource>> {
    match (&signing.source, store) {
        (KeySourceConfig::Dev {}, StoreChoice::Embedded { data_dir }) => Ok(Arc::new(
            DevKeySource::new(data_dir.join("keys"), algorithms.clone()),
        )),
        (KeySourceConfig::Dev {}, StoreChoice::Cluster(_)) => bail!(
            "signing.source kind `dev` is for `sigil dev` only: it generates a key per \
             process, so replicas would sign with different keys and reject each other's \
             tokens. Give every replica the same keys with a shared source: \
             `{{ kind: file, path: DIR }}` (then `sigil keys generate`), `kind: kubernetes` or \
             `kind: azure` (see deploy/KEYS.md)"
        ),
        _ => key_source(signing).await,
    }
}

/// The configured source for a command outside a running service (`sigil keys`).
pub async fn key_source(signing: &SigningConfig) -> anyhow::Result<Arc<dyn KeySource>> {
    match &signing.source {
        KeySourceConfig::Kubernetes(config) => Ok(Arc::new(kube_source(config).await?)),
        KeySourceConfig::Dev {} => bail!("the `dev` key source exists only inside `sigil dev`"),
        KeySourceConfig::File { path } => Ok(Arc::new(FileKeySource::new(path.clone()))),
        KeySourceConfig::Azure(config) => Ok(Arc::new(
            sigil_azure::AzureKeySource::new(config).context("setting up the Key Vault source")?,
        )),
    }
}

/// The configured source, if `sigil keys` can write to it.
pub async fn writable_key_source(signing: &SigningConfig) -> anyhow::Result<Box<dyn KeyFileStore>> {
    match &signing.source {
        KeySourceConfig::Kubernetes(config) => Ok(Box::new(kube_source(config).await?)),
        KeySourceConfig::File { path } => Ok(Box::new(FileKeySource::new(path.clone()))),
        KeySourceConfig::Dev {} => bail!("the `dev` key source is written only by `sigil dev`"),
        KeySourceConfig::Azure(_) => bail!(
            "Key Vault is not written by `sigil keys`: create a new certificate or key version \
             in the vault (or let its rotation policy do it); pods pick it up on their next \
             refresh and sign with it once the propagation period has passed"
        ),
    }
}

async fn kube_source(
    config: &sigil_kube::KubeSourceConfig,
) -> anyhow::Result<sigil_kube::KubeSecretKeySource> {
    sigil_kube::KubeSecretKeySource::from_environment(config)
        .await
        .context("connecting to the Kubernetes API")
}

/// Loads the keys once and starts refreshing them.
///
/// If the first load fails, `sigil dev` stops with the error; `sigil serve` starts anyway,
/// not ready (the ring's `PublishedKeys::loaded` fails until a load succeeds) and retrying, so that a pod started during a key-source
/// outage joins as soon as the source answers instead of crash-looping.
pub async fn start(
    signing: &SigningConfig,
    algorithms: &SigningAlgorithms,
    store: &StoreChoice,
) -> anyhow::Result<LiveKeys> {
    let source = source(signing, algorithms, store).await?;
    let ring = SharedKeyRing::empty(algorithms.clone(), signing.rotation.policy());
    if let Err(error) = ring.reload(source.as_ref()).await {
        let error = anyhow::Error::new(error).context("loading signing keys");
        if matches!(store, StoreChoice::Embedded { .. }) {
            return Err(error);
        }
        tracing::error!(
            error = format!("{error:#}"),
            "no signing keys yet; not ready, retrying"
        );
    }
    Ok(LiveKeys {
        description: source.describe(),
        _refresher: KeyRefresher::spawn(ring.clone(), source, signing.refresh_interval),
        ring,
    })
}
