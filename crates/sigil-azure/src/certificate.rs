//! Certificate mode: every enabled version of a Key Vault certificate, its private key read
//! from the certificate's backing secret (same name and version) and signing locally.

use crate::vault::{Vault, VersionAttributes, with_version_times};
use sigil_core::error::ErrorChain;
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
    let versions = vault
        .certificates
        .list_certificate_properties_versions(name, None);
    for enabled in vault
        .enabled_versions("certificates", name, versions)
        .await?
    {
        match load_version(vault, name, &enabled.version, &enabled.attributes, alg).await {
            Ok(key) => keys.push(key),
            Err(error @ KeySourceError::Unavailable { .. }) => return Err(error),
            Err(error) => {
                tracing::warn!(
                    certificate = %vault.object_url("certificates", name, Some(&enabled.version)),
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

async fn load_version(
    vault: &Vault,
    name: &str,
    version: &str,
    attributes: &VersionAttributes,
    alg: Option<Algorithm>,
) -> Result<SigningKey, KeySourceError> {
    let secret_url = vault.object_url("secrets", name, Some(version));
    let secret = vault
        .secret_version(name, version, "reading the private key (secret) of")
        .await?;
    let content_type = secret.content_type.as_deref().unwrap_or_default();
    let value = secret.value.unwrap_or_default();
    let key_pem = match content_type {
        PEM => private_key_blocks(&value).map_err(|error| KeySourceError::InvalidMetadata {
            path: secret_url.clone(),
            reason: ErrorChain(&error).to_string(),
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
    let key = SigningKey::from_pem(&key_pem, alg).map_err(|source| KeySourceError::InvalidKey {
        path: secret_url.clone(),
        source,
    })?;
    Ok(with_version_times(key, attributes))
}

/// The private key block(s) of a PEM certificate secret, which also holds the certificate
/// chain (`CERTIFICATE` blocks, dropped here).
fn private_key_blocks(value: &str) -> Result<String, PemSecretError> {
    let blocks = pem::parse_many(value).map_err(PemSecretError::NotPem)?;
    let keys: Vec<pem::Pem> = blocks
        .into_iter()
        .filter(|b| b.tag().ends_with("PRIVATE KEY"))
        .collect();
    if keys.is_empty() {
        return Err(PemSecretError::NoPrivateKey);
    }
    Ok(pem::encode_many(&keys))
}

/// Why a certificate's PEM secret yields no private key.
#[derive(Debug, thiserror::Error)]
enum PemSecretError {
    /// The secret does not parse as PEM.
    #[error("not PEM")]
    NotPem(#[source] pem::PemError),
    /// Only certificates: the key was not exportable.
    #[error("the PEM holds no private key (is the key exportable?)")]
    NoPrivateKey,
}

#[cfg(test)]
mod tests {
    use super::{ErrorChain, private_key_blocks};

    #[test]
    fn certificate_blocks_are_dropped_and_a_missing_key_is_named() {
        let key = "-----BEGIN PRIVATE KEY-----\nAAEC\n-----END PRIVATE KEY-----\n";
        let cert = "-----BEGIN CERTIFICATE-----\nAwQF\n-----END CERTIFICATE-----\n";
        let kept = private_key_blocks(&format!("{key}{cert}")).unwrap_or_default();
        assert!(kept.contains("PRIVATE KEY") && !kept.contains("CERTIFICATE"));
        assert!(private_key_blocks(cert).is_err_and(|e| e.to_string().contains("no private key")));
        let garbled =
            private_key_blocks("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n")
                .map_err(|error| ErrorChain(&error).to_string());
        assert!(
            garbled
                .as_ref()
                .is_err_and(|reason| reason.starts_with("not PEM: ")),
            "{garbled:?}"
        );
    }
}
