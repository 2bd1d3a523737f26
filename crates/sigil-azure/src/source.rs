//! [`AzureKeySource`]: the [`KeySource`] over one vault.

use crate::config::{AzureConfig, SigningEntry, SigningObject};
use crate::error::AzureSetupError;
use crate::vault::Vault;
use crate::{certificate, credential, http, key, session_secret};
use async_trait::async_trait;
use sigil_keys::{KeySet, KeySource, KeySourceError};

/// Signing keys (and optionally session secrets) from Azure Key Vault.
///
/// Every [`load`](KeySource::load) lists the configured objects' versions afresh and returns
/// the enabled ones with their vault timestamps (`created`, `nbf`, `exp`), so rotating is
/// creating a new version in the vault and retiring is disabling an old one.
pub struct AzureKeySource {
    vault: Vault,
    signing: Vec<SigningEntry>,
    session_secret: Option<String>,
}

impl std::fmt::Debug for AzureKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureKeySource")
            .field("source", &self.vault.source_name)
            .finish_non_exhaustive()
    }
}

impl AzureKeySource {
    /// Builds the credential and the vault clients. Reads the client secret file and the CA
    /// file now; sends nothing until the first `load`.
    pub fn new(config: &AzureConfig) -> Result<Self, AzureSetupError> {
        let options = http::client_options(config)?;
        let credential = credential::credential(&config.credential, &options)?;
        let source_name = describe(config);
        let vault = Vault::new(config, source_name, credential, options)?;
        Ok(Self {
            vault,
            signing: config.signing.clone(),
            session_secret: config.session_secret.clone(),
        })
    }
}

fn describe(config: &AzureConfig) -> String {
    let objects: Vec<String> = config
        .signing
        .iter()
        .map(|entry| match &entry.object {
            SigningObject::Certificate(name) => format!("certificate {name}"),
            SigningObject::Key(name) => format!("key {name}"),
        })
        .collect();
    let mut text = format!(
        "Azure Key Vault {} {}",
        config.vault_url.as_str().trim_end_matches('/'),
        objects.join(", ")
    );
    if let Some(secret) = &config.session_secret {
        text.push_str(&format!(", secret {secret}"));
    }
    text
}

#[async_trait]
impl KeySource for AzureKeySource {
    async fn load(&self) -> Result<KeySet, KeySourceError> {
        let mut signing = Vec::new();
        for entry in &self.signing {
            signing.extend(match &entry.object {
                SigningObject::Certificate(name) => {
                    certificate::load(&self.vault, name, entry.alg).await?
                }
                SigningObject::Key(name) => key::load(&self.vault, name, entry.alg).await?,
            });
        }
        let secrets = match &self.session_secret {
            Some(name) => session_secret::load(&self.vault, name).await?,
            None => Vec::new(),
        };
        Ok(KeySet::new(signing, secrets))
    }

    fn describe(&self) -> String {
        self.vault.source_name.clone()
    }
}
