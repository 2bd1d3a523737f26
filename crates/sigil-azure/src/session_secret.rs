//! Session secrets: every enabled version of one Key Vault secret.
//!
//! The value is the standard base64 (padding optional) of at least 32 random bytes, as
//! `openssl rand -base64 32` prints it. Raw text is not accepted: a random-looking string
//! could be read either way, and base64 keeps the full 256 bits in printable form.

use crate::vault::{Vault, VersionAttributes};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sigil_keys::{KeySourceError, SessionSecret};

/// The enabled versions of secret `name`; each version id names its [`SessionSecret`].
pub(crate) async fn load(vault: &Vault, name: &str) -> Result<Vec<SessionSecret>, KeySourceError> {
    let versions = vault.secrets.list_secret_properties_versions(name, None);
    let mut secrets = Vec::new();
    for enabled in vault.enabled_versions("secrets", name, versions).await? {
        secrets.push(load_version(vault, name, &enabled.version, &enabled.attributes).await?);
    }
    Ok(secrets)
}

async fn load_version(
    vault: &Vault,
    name: &str,
    version: &str,
    attributes: &VersionAttributes,
) -> Result<SessionSecret, KeySourceError> {
    let url = vault.object_url("secrets", name, Some(version));
    let secret = vault.secret_version(name, version, "reading").await?;
    let value = secret.value.unwrap_or_default();
    let value = value.trim();
    // Never put the value itself into an error.
    let bytes = STANDARD
        .decode(value)
        .or_else(|_| STANDARD_NO_PAD.decode(value))
        .map_err(|_| KeySourceError::InvalidMetadata {
            path: url.clone(),
            reason: "a session secret must be the base64 of at least 32 random bytes \
                     (for example `openssl rand -base64 32`)"
                .into(),
        })?;
    let mut secret = SessionSecret::new(version, bytes)
        .map_err(|source| KeySourceError::InvalidKey { path: url, source })?;
    if let Some(created) = attributes.created {
        secret = secret.with_created(created);
    }
    if let Some(not_before) = attributes.not_before {
        secret = secret.with_not_before(not_before);
    }
    Ok(secret)
}
