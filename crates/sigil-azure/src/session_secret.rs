//! Session secrets: every enabled version of one Key Vault secret.
//!
//! The value is the standard base64 (padding optional) of at least 32 random bytes, as
//! `openssl rand -base64 32` prints it. Raw text is not accepted: a random-looking string
//! could be read either way, and base64 keeps the full 256 bits in printable form.

use crate::vault::{Vault, timestamp, version_of};
use azure_security_keyvault_secrets::models::{SecretClientGetSecretOptions, SecretProperties};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use futures::StreamExt as _;
use sigil_keys::{KeySourceError, SessionSecret};

/// The enabled versions of secret `name`; each version id names its [`SessionSecret`].
pub(crate) async fn load(vault: &Vault, name: &str) -> Result<Vec<SessionSecret>, KeySourceError> {
    let mut secrets = Vec::new();
    for properties in enabled_versions(vault, name).await? {
        let Some(version) = version_of(properties.id.as_deref()) else {
            continue;
        };
        secrets.push(load_version(vault, name, &version, &properties).await?);
    }
    Ok(secrets)
}

async fn enabled_versions(
    vault: &Vault,
    name: &str,
) -> Result<Vec<SecretProperties>, KeySourceError> {
    let object = vault.object_url("secrets", name, None);
    let fail = |e: azure_core::Error| vault.unavailable("listing the versions of", &object, &e);
    let mut pager = vault
        .secrets
        .list_secret_properties_versions(name, None)
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
    properties: &SecretProperties,
) -> Result<SessionSecret, KeySourceError> {
    let url = vault.object_url("secrets", name, Some(version));
    let fail = |e: azure_core::Error| vault.unavailable("reading", &url, &e);
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
    if let Some(attributes) = &properties.attributes {
        if let Some(created) = attributes.created {
            secret = secret.with_created(timestamp(created));
        }
        if let Some(not_before) = attributes.not_before {
            secret = secret.with_not_before(timestamp(not_before));
        }
    }
    Ok(secret)
}
