//! Signing with a key that never leaves Key Vault: one `sign` call per signature.

use crate::error::AzureFailure;
use async_trait::async_trait;
use azure_security_keyvault_keys::KeyClient;
use azure_security_keyvault_keys::models::{
    KeyClientSignOptions, SignParameters, SignatureAlgorithm,
};
use sigil_core::signing::SigningError;
use sigil_keys::{Algorithm, RemoteSigner};
use std::sync::Arc;

/// Signs digests with one version of a Key Vault key.
pub(crate) struct VaultSigner {
    client: Arc<KeyClient>,
    name: String,
    version: String,
    /// The key version's URL, for logs and errors.
    url: String,
}

impl std::fmt::Debug for VaultSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultSigner")
            .field("url", &self.url)
            .finish()
    }
}

impl VaultSigner {
    pub(crate) fn new(client: Arc<KeyClient>, name: String, version: String, url: String) -> Self {
        Self {
            client,
            name,
            version,
            url,
        }
    }
}

#[async_trait]
impl RemoteSigner for VaultSigner {
    async fn sign_digest(&self, alg: Algorithm, digest: &[u8]) -> Result<Vec<u8>, SigningError> {
        let algorithm = match alg {
            Algorithm::RS256 => SignatureAlgorithm::Rs256,
            Algorithm::PS256 => SignatureAlgorithm::Ps256,
            Algorithm::ES256 => SignatureAlgorithm::Es256,
            other => {
                return Err(SigningError::Crypto(format!(
                    "Key Vault key {} cannot sign {other}",
                    self.url
                )));
            }
        };
        let fail = |e: azure_core::Error| {
            SigningError::Crypto(
                AzureFailure::new(&format!("Key Vault sign with {}", self.url), &e).to_string(),
            )
        };
        let parameters = SignParameters {
            algorithm: Some(algorithm),
            value: Some(digest.to_vec()),
        };
        let result = self
            .client
            .sign(
                &self.name,
                parameters.try_into().map_err(fail)?,
                Some(KeyClientSignOptions {
                    key_version: Some(self.version.clone()),
                    ..KeyClientSignOptions::default()
                }),
            )
            .await
            .map_err(fail)?
            .into_model()
            .map_err(fail)?;
        result.result.ok_or_else(|| {
            SigningError::Crypto(format!(
                "Key Vault sign with {} returned no signature",
                self.url
            ))
        })
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}
