//! Key mode: every enabled version of a Key Vault key, published from its public JWK and
//! signing through the vault's `sign` operation for that exact version.

use crate::signer::VaultSigner;
use crate::vault::{Vault, VersionAttributes, with_version_times};
use azure_security_keyvault_keys::models::{CurveName, JsonWebKey, KeyType};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sigil_keys::{Algorithm, KeySourceError, SigningKey};
use std::sync::Arc;

/// The enabled versions of key `name`.
pub(crate) async fn load(
    vault: &Vault,
    name: &str,
    alg: Option<Algorithm>,
) -> Result<Vec<SigningKey>, KeySourceError> {
    let versions = vault.keys.list_key_properties_versions(name, None);
    let mut keys = Vec::new();
    for enabled in vault.enabled_versions("keys", name, versions).await? {
        keys.push(load_version(vault, name, &enabled.version, &enabled.attributes, alg).await?);
    }
    Ok(keys)
}

async fn load_version(
    vault: &Vault,
    name: &str,
    version: &str,
    attributes: &VersionAttributes,
    alg: Option<Algorithm>,
) -> Result<SigningKey, KeySourceError> {
    let url = vault.object_url("keys", name, Some(version));
    let key = vault.key_version(name, version).await?;
    let invalid = |reason: KeyMaterialError| KeySourceError::InvalidMetadata {
        path: url.clone(),
        reason: reason.to_string(),
    };
    let jwk = key
        .key
        .as_ref()
        .ok_or_else(|| invalid(KeyMaterialError::Missing))?;
    let (public_jwk, default_alg) = public_jwk(jwk).map_err(invalid)?;
    let signer = Arc::new(VaultSigner::new(
        vault.keys.clone(),
        name.to_owned(),
        version.to_owned(),
        url.clone(),
    ));
    let key =
        SigningKey::remote(alg.unwrap_or(default_alg), &public_jwk, signer).map_err(|source| {
            KeySourceError::InvalidKey {
                path: url.clone(),
                source,
            }
        })?;
    Ok(with_version_times(key, attributes))
}

/// The public JWK (`RSA` `n`/`e` or `EC` P-256 `x`/`y`, base64url) of a Key Vault key and the
/// algorithm it signs with by default.
fn public_jwk(jwk: &JsonWebKey) -> Result<(Value, Algorithm), KeyMaterialError> {
    let b64 = |member: &Option<Vec<u8>>, name: &'static str| {
        member
            .as_deref()
            .map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
            .ok_or(KeyMaterialError::NoMember(name))
    };
    match &jwk.kty {
        Some(KeyType::Rsa | KeyType::RsaHsm) => Ok((
            json!({ "kty": "RSA", "n": b64(&jwk.n, "n")?, "e": b64(&jwk.e, "e")? }),
            Algorithm::RS256,
        )),
        Some(KeyType::Ec | KeyType::EcHsm) => match &jwk.crv {
            Some(CurveName::P256) => Ok((
                json!({ "kty": "EC", "crv": "P-256", "x": b64(&jwk.x, "x")?, "y": b64(&jwk.y, "y")? }),
                Algorithm::ES256,
            )),
            other => Err(KeyMaterialError::Curve(format!("{other:?}"))),
        },
        other => Err(KeyMaterialError::KeyType(format!("{other:?}"))),
    }
}

/// Why a Key Vault key's public half cannot be published.
#[derive(Debug, thiserror::Error)]
enum KeyMaterialError {
    /// The vault answered without the key.
    #[error("the vault returned no key material")]
    Missing,
    /// A member the key type needs is absent.
    #[error("the key has no `{0}`")]
    NoMember(&'static str),
    /// An EC key on another curve.
    #[error("unsupported curve {0}: Sigil signs with P-256 (ES256) only")]
    Curve(String),
    /// Neither RSA nor EC.
    #[error("unsupported key type {0}: use an RSA (RS256/PS256) or EC P-256 (ES256) key")]
    KeyType(String),
}
