//! Certificate mode: every enabled version of a Key Vault certificate, its private key read
//! from the certificate's backing secret (same name and version) and signing locally.

use crate::vault::{Vault, timestamp, version_of};
use azure_security_keyvault_certificates::models::CertificateProperties;
use azure_security_keyvault_secrets::models::SecretClientGetSecretOptions;
use futures::StreamExt as _;
use sigil_keys::{Algorithm, KeySourceError, SigningKey};

/// Content type of a certificate secret in PEM form.
const PEM: &str = "application/x-pem-file";
/// Content type of a certificate secret in PKCS#12 form (Key Vault's default).
const PKCS12: &str = "application/x-pkcs12";

/// The enabled versions of certificate `name`, newest creation time last.
///
/// A version whose key cannot be used (a PKCS#12 secret, an unsupported key type) is skipped
/// with a warning while another version is usable, so that an old version does not block a
/// new one; when none is usable the first such error is returned.
pub(crate) async fn load(
    vault: &Vault,
    name: &str,
    alg: Option<Algorithm>,
) -> Result<Vec<SigningKey>, KeySourceError> {
    let mut keys = Vec::new();
    let mut first_error = None;
    for properties in enabled_versions(vault, name).await? {
        let Some(version) = version_of(properties.id.as_deref()) else {
            continue;
        };
        match load_version(vault, name, &version, &properties, alg).await {
            Ok(key) => keys.push(key),
            Err(error @ KeySourceError::Unavailable { .. }) => return Err(error),
            Err(error) => {
                tracing::warn!(
                    certificate = %vault.object_url("certificates", name, Some(&version)),
                    error = %error,
                    "skipping a certificate version whose key cannot be used"
                );
                first_error.get_or_insert(error);
            }
        }
    }
    match first_error {
        Some(error) if keys.is_empty() => Err(error),
        _ => Ok(keys),
    }
}

async fn enabled_versions(
    vault: &Vault,
    name: &str,
) -> Result<Vec<CertificateProperties>, KeySourceError> {
    let object = vault.object_url("certificates", name, None);
    let fail = |e: azure_core::Error| vault.unavailable("listing the versions of", &object, &e);
    let mut pager = vault
        .certificates
        .list_certificate_properties_versions(name, None)
        .map_err(fail)?;
    let mut enabled = Vec::new();
    while let Some(properties) = pager.next().await {
        let properties = properties.map_err(fail)?;
        if properties.attributes.as_ref().and_then(|a| a.enabled) == Some(true) {
            enabled.push(properties);
        }
    }
    Ok(enabled)
}

async fn load_version(
    vault: &Vault,
    name: &str,
    version: &str,
    properties: &CertificateProperties,
    alg: Option<Algorithm>,
) -> Result<SigningKey, KeySourceError> {
    let secret_url = vault.object_url("secrets", name, Some(version));
    let fail = |e: azure_core::Error| {
        vault.unavailable("reading the private key (secret) of", &secret_url, &e)
    };
    let secret = vault
        .secrets
        .get_secret(
            name,
            Some(SecretClientGetSecretOptions {
                secret_version: Some(version.to_owned()),
                ..SecretClientGetSecretOptions::default()
            }),
        )
        .await
        .map_err(fail)?
        .into_model()
        .map_err(fail)?;
    let content_type = secret.content_type.as_deref().unwrap_or_default();
    let value = secret.value.unwrap_or_default();
    let key_pem = match content_type {
        PEM => private_key_blocks(&value).map_err(|reason| KeySourceError::InvalidMetadata {
            path: secret_url.clone(),
            reason,
        })?,
        PKCS12 => {
            return Err(KeySourceError::InvalidMetadata {
                path: secret_url,
                reason: "the certificate's secret is PKCS#12 (application/x-pkcs12), which Sigil \
                         does not read: set the certificate policy's secret content type to \
                         application/x-pem-file and create a new certificate version"
                    .into(),
            });
        }
        other => {
            return Err(KeySourceError::InvalidMetadata {
                path: secret_url,
                reason: format!(
                    "unexpected secret content type `{other}` (expected application/x-pem-file)"
                ),
            });
        }
    };
    let mut key =
        SigningKey::from_pem(&key_pem, alg).map_err(|source| KeySourceError::InvalidKey {
            path: secret_url.clone(),
            source,
        })?;
    if let Some(attributes) = &properties.attributes {
        if let Some(created) = attributes.created {
            key = key.with_created(timestamp(created));
        }
        if let Some(not_before) = attributes.not_before {
            key = key.with_not_before(timestamp(not_before));
        }
        if let Some(expires) = attributes.expires {
            key = key.with_expires(timestamp(expires));
        }
    }
    Ok(key)
}

/// The private key block(s) of a PEM certificate secret, which also holds the certificate
/// chain (`CERTIFICATE` blocks, dropped here).
fn private_key_blocks(value: &str) -> Result<String, String> {
    let blocks = pem::parse_many(value).map_err(|e| format!("not PEM: {e}"))?;
    let keys: Vec<pem::Pem> = blocks
        .into_iter()
        .filter(|b| b.tag().ends_with("PRIVATE KEY"))
        .collect();
    if keys.is_empty() {
        return Err("the PEM holds no private key (is the key exportable?)".into());
    }
    Ok(pem::encode_many(&keys))
}

#[cfg(test)]
mod tests {
    use super::private_key_blocks;

    #[test]
    fn certificate_blocks_are_dropped_and_a_missing_key_is_named() {
        let key = "-----BEGIN PRIVATE KEY-----\nAAEC\n-----END PRIVATE KEY-----\n";
        let cert = "-----BEGIN CERTIFICATE-----\nAwQF\n-----END CERTIFICATE-----\n";
        let kept = private_key_blocks(&format!("{key}{cert}")).unwrap_or_default();
        assert!(kept.contains("PRIVATE KEY") && !kept.contains("CERTIFICATE"));
        assert!(private_key_blocks(cert).is_err_and(|e| e.contains("no private key")));
    }
}
