//! The vault a source reads: its three SDK clients, sharing one credential and pipeline
//! settings, and the helpers every mode uses (errors that name the object, version ids,
//! attribute times).

use crate::config::AzureConfig;
use crate::error::{AzureFailure, AzureSetupError};
use azure_core::credentials::TokenCredential;
use azure_core::http::ClientOptions;
use azure_core::time::OffsetDateTime;
use azure_security_keyvault_certificates::{CertificateClient, CertificateClientOptions};
use azure_security_keyvault_keys::{KeyClient, KeyClientOptions};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use sigil_keys::{KeySourceError, Timestamp};
use std::sync::Arc;

/// One vault's clients.
pub(crate) struct Vault {
    /// The vault URL without a trailing slash, for naming objects.
    pub(crate) url: String,
    /// How the source names itself in errors.
    pub(crate) source_name: String,
    pub(crate) certificates: CertificateClient,
    pub(crate) keys: Arc<KeyClient>,
    pub(crate) secrets: SecretClient,
}

impl Vault {
    /// Builds the clients; nothing is sent yet.
    pub(crate) fn new(
        config: &AzureConfig,
        source_name: String,
        credential: Arc<dyn TokenCredential>,
        options: ClientOptions,
    ) -> Result<Self, AzureSetupError> {
        let url = config.vault_url.as_str();
        let verify = Some(config.verify_challenge_resource);
        let sdk = |what| {
            move |e: azure_core::Error| AzureSetupError::Sdk {
                what,
                cause: AzureFailure::new(what, &e),
            }
        };
        let certificates = CertificateClient::new(
            url,
            credential.clone(),
            Some(CertificateClientOptions {
                client_options: options.clone(),
                verify_challenge_resource: verify,
                ..CertificateClientOptions::default()
            }),
        )
        .map_err(sdk("certificates client"))?;
        let keys = KeyClient::new(
            url,
            credential.clone(),
            Some(KeyClientOptions {
                client_options: options.clone(),
                verify_challenge_resource: verify,
                ..KeyClientOptions::default()
            }),
        )
        .map_err(sdk("keys client"))?;
        let secrets = SecretClient::new(
            url,
            credential,
            Some(SecretClientOptions {
                client_options: options,
                verify_challenge_resource: verify,
                ..SecretClientOptions::default()
            }),
        )
        .map_err(sdk("secrets client"))?;
        Ok(Self {
            url: url.trim_end_matches('/').to_owned(),
            source_name,
            certificates,
            keys: Arc::new(keys),
            secrets,
        })
    }

    /// The URL of an object (`certificates`, `keys`, `secrets`) or one of its versions.
    pub(crate) fn object_url(&self, collection: &str, name: &str, version: Option<&str>) -> String {
        match version {
            Some(version) => format!("{}/{collection}/{name}/{version}", self.url),
            None => format!("{}/{collection}/{name}", self.url),
        }
    }

    /// `Unavailable`, naming the operation and the object.
    pub(crate) fn unavailable(
        &self,
        operation: &str,
        object: &str,
        error: &azure_core::Error,
    ) -> KeySourceError {
        KeySourceError::Unavailable {
            source_name: self.source_name.clone(),
            cause: Box::new(AzureFailure::new(&format!("{operation} {object}"), error)),
        }
    }
}

/// The version id at the end of an object id such as
/// `https://v.vault.azure.net/keys/name/0123abcd`.
pub(crate) fn version_of(id: Option<&str>) -> Option<String> {
    let version = id?.trim_end_matches('/').rsplit('/').next()?;
    (!version.is_empty()).then(|| version.to_owned())
}

/// Unix seconds; times before the epoch become the epoch.
pub(crate) fn timestamp(time: OffsetDateTime) -> Timestamp {
    Timestamp(u64::try_from(time.unix_timestamp()).unwrap_or(0))
}
