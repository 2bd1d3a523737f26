//! The vault a source reads: its three SDK clients, sharing one credential and pipeline
//! settings, and the helpers every mode uses (errors that name the object, the enabled
//! versions of an object, attribute times).

use crate::config::AzureConfig;
use crate::error::{AzureFailure, AzureSetupError};
use azure_core::credentials::TokenCredential;
use azure_core::http::{ClientOptions, DeserializeWith, Format, Response};
use azure_core::time::OffsetDateTime;
use azure_security_keyvault_certificates::models::CertificateProperties;
use azure_security_keyvault_certificates::{CertificateClient, CertificateClientOptions};
use azure_security_keyvault_keys::models::{Key, KeyClientGetKeyOptions, KeyProperties};
use azure_security_keyvault_keys::{KeyClient, KeyClientOptions};
use azure_security_keyvault_secrets::models::{
    Secret, SecretClientGetSecretOptions, SecretProperties,
};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use futures::{Stream, StreamExt as _};
use sigil_keys::{KeySourceError, SigningKey, Timestamp};
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
        // The three SDK clients take the same settings, each through its own options type.
        macro_rules! client {
            ($client:ident, $options:ident, $what:literal) => {
                $client::new(
                    url,
                    credential.clone(),
                    Some($options {
                        client_options: options.clone(),
                        verify_challenge_resource: verify,
                        ..$options::default()
                    }),
                )
                .map_err(sdk($what))?
            };
        }
        let certificates = client!(
            CertificateClient,
            CertificateClientOptions,
            "certificates client"
        );
        let keys = client!(KeyClient, KeyClientOptions, "keys client");
        let secrets = client!(SecretClient, SecretClientOptions, "secrets client");
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

    /// The enabled versions of object `name` in `collection`, read from `list` (the SDK's
    /// version pager, or the error creating it). An entry whose id names no version is passed
    /// over; a failure to list is `Unavailable`.
    pub(crate) async fn enabled_versions<P, S>(
        &self,
        collection: &str,
        name: &str,
        list: azure_core::Result<S>,
    ) -> Result<Vec<EnabledVersion>, KeySourceError>
    where
        P: VersionProperties,
        S: Stream<Item = azure_core::Result<P>> + Unpin,
    {
        let object = self.object_url(collection, name, None);
        let fail = |e: azure_core::Error| self.unavailable("listing the versions of", &object, &e);
        let mut pager = list.map_err(fail)?;
        let mut enabled = Vec::new();
        while let Some(properties) = pager.next().await {
            let properties = properties.map_err(fail)?;
            let attributes = properties.attributes();
            if !attributes.enabled {
                continue;
            }
            if let Some(version) = version_of(properties.object_id()) {
                enabled.push(EnabledVersion {
                    version,
                    attributes,
                });
            }
        }
        Ok(enabled)
    }

    /// Version `version` of key `name`; a failure is `Unavailable`, naming the key version.
    pub(crate) async fn key_version(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Key, KeySourceError> {
        let options = KeyClientGetKeyOptions {
            key_version: Some(version.to_owned()),
            ..KeyClientGetKeyOptions::default()
        };
        let object = self.object_url("keys", name, Some(version));
        let response = self.keys.get_key(name, Some(options));
        self.read("reading", &object, response).await
    }

    /// Version `version` of secret `name`; a failure is `Unavailable`, naming `operation` and
    /// the secret version.
    pub(crate) async fn secret_version(
        &self,
        name: &str,
        version: &str,
        operation: &str,
    ) -> Result<Secret, KeySourceError> {
        let options = SecretClientGetSecretOptions {
            secret_version: Some(version.to_owned()),
            ..SecretClientGetSecretOptions::default()
        };
        let object = self.object_url("secrets", name, Some(version));
        let response = self.secrets.get_secret(name, Some(options));
        self.read(operation, &object, response).await
    }

    /// The model of an SDK `response`; a failure to get or read it is `Unavailable`, naming
    /// `operation` and `object`.
    async fn read<T, F>(
        &self,
        operation: &str,
        object: &str,
        response: impl Future<Output = azure_core::Result<Response<T, F>>>,
    ) -> Result<T, KeySourceError>
    where
        T: DeserializeWith<F>,
        F: Format,
    {
        let fail = |e: azure_core::Error| self.unavailable(operation, object, &e);
        response.await.map_err(fail)?.into_model().map_err(fail)
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

/// One enabled version of a vault object: its id and the attributes Sigil uses.
pub(crate) struct EnabledVersion {
    /// The version id (the last segment of the object id).
    pub(crate) version: String,
    pub(crate) attributes: VersionAttributes,
}

/// The attributes of a version that Sigil uses, whichever kind of object it is.
#[derive(Debug, Default)]
pub(crate) struct VersionAttributes {
    pub(crate) enabled: bool,
    pub(crate) created: Option<Timestamp>,
    pub(crate) not_before: Option<Timestamp>,
    pub(crate) expires: Option<Timestamp>,
}

/// What the modes read from the properties in a version list. The certificate, key and
/// secret SDK crates each model these separately, with the same fields.
pub(crate) trait VersionProperties {
    /// The id that ends in the version id (`id`; `kid` for keys).
    fn object_id(&self) -> Option<&str>;
    /// The version's attributes; a version without any is not enabled.
    fn attributes(&self) -> VersionAttributes;
}

/// Implements [`VersionProperties`] for an SDK properties type whose object id is `$id`.
macro_rules! version_properties {
    ($type:ty, $id:ident) => {
        impl VersionProperties for $type {
            fn object_id(&self) -> Option<&str> {
                self.$id.as_deref()
            }
            fn attributes(&self) -> VersionAttributes {
                self.attributes
                    .as_ref()
                    .map_or_else(VersionAttributes::default, |a| VersionAttributes {
                        enabled: a.enabled == Some(true),
                        created: a.created.map(timestamp),
                        not_before: a.not_before.map(timestamp),
                        expires: a.expires.map(timestamp),
                    })
            }
        }
    };
}

version_properties!(CertificateProperties, id);
version_properties!(KeyProperties, kid);
version_properties!(SecretProperties, id);

/// `key` with the version's creation, not-before and expiry times, where the vault has them.
pub(crate) fn with_version_times(
    mut key: SigningKey,
    attributes: &VersionAttributes,
) -> SigningKey {
    if let Some(created) = attributes.created {
        key = key.with_created(created);
    }
    if let Some(not_before) = attributes.not_before {
        key = key.with_not_before(not_before);
    }
    if let Some(expires) = attributes.expires {
        key = key.with_expires(expires);
    }
    key
}

/// The version id at the end of an object id such as
/// `https://v.vault.azure.net/keys/name/0123abcd`.
pub(crate) fn version_of(id: Option<&str>) -> Option<String> {
    let version = id?.trim_end_matches('/').rsplit('/').next()?;
    (!version.is_empty()).then(|| version.to_owned())
}

/// Unix seconds; times before the epoch become the epoch.
fn timestamp(time: OffsetDateTime) -> Timestamp {
    Timestamp(u64::try_from(time.unix_timestamp()).unwrap_or(0))
}
