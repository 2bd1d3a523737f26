//! The key-file layout shared by the file source and the Kubernetes source: a flat map from
//! file name to contents, as a directory or a Secret's `data` holds it.
//!
//! - `NAME.pem`: one private key (PKCS#8, PKCS#1 or SEC1; see
//!   [`SigningKey::from_pem`](crate::SigningKey::from_pem)), with an optional sidecar
//!   `NAME.json` whose members are all optional:
//!   `{"kid": "…", "alg": "PS256", "created": 1767139200, "not_before": 1767225600, "expires": 1798761600}`.
//! - `NAME.jwk`: one private JWK (`RSA`, `EC` P-256, `OKP` Ed25519), or a `kty: oct` JWK that
//!   is a session secret (at least 32 bytes). Its `kid` and `alg` members are used, and the
//!   metadata as the members `iat` (created), `nbf` (not before) and `exp` (expires).
//! - Anything else, and names starting with `.` (temporary files, a mounted Secret's
//!   `..data` links), is ignored.
//!
//! Times are Unix seconds. `alg` defaults from the key type (RSA → RS256, P-256 → ES256,
//! Ed25519 → EdDSA), `kid` to the RFC 7638 thumbprint, `created` and `not_before` to 0. What
//! the times mean is the key ring's business: a key signs from `not_before`, but not before
//! `created` plus the propagation period, so a key written with `created` = now (as
//! `sigil keys rotate` does) is published first and signs later. A key with no times at all
//! signs at once: that suits the first key of a new deployment, never a rotation.
//!
//! A file that cannot be parsed fails the whole load with an error naming it: a key set is
//! used complete or not at all.

use crate::{
    Algorithm, KeySet, KeySource, KeySourceError, SessionSecret, SigningKey, UnknownAlgorithm,
};
use async_trait::async_trait;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sigil_core::time::Timestamp;
use std::collections::BTreeMap;

/// File name → contents.
pub type KeyFiles = BTreeMap<String, Vec<u8>>;

/// The metadata of a key: a PEM's `NAME.json` sidecar.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyMetadata {
    /// The key id; defaults to the RFC 7638 thumbprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The algorithm; defaults from the key type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// When the key was created and first published (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<u64>,
    /// The earliest time the key may sign (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<u64>,
    /// When the key stops signing (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<u64>,
}

impl KeyMetadata {
    /// The sidecar's JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

/// The `.jwk` file of a session secret: `kty: oct`, its id as `kid`, and `iat` / `nbf` when set.
pub fn session_secret_jwk(secret: &SessionSecret) -> Vec<u8> {
    let mut jwk = serde_json::json!({
        "kty": "oct",
        "kid": secret.id(),
        "k": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret.bytes()),
    });
    if let Some(members) = jwk.as_object_mut() {
        for (name, time) in [("iat", secret.created()), ("nbf", secret.not_before())] {
            if time.as_secs() > 0 {
                members.insert(name.to_owned(), time.as_secs().into());
            }
        }
    }
    serde_json::to_vec_pretty(&jwk).unwrap_or_default()
}

/// Parses every key file in `files`; `location` names where they came from, in errors.
pub fn parse_key_files(files: &KeyFiles, location: &str) -> Result<KeySet, KeySourceError> {
    let mut set = KeySet::default();
    for (name, contents) in files {
        if name.starts_with('.') {
            continue;
        }
        let path = format!("{location}/{name}");
        if let Some(stem) = name.strip_suffix(".pem") {
            let sidecar = files.get(&format!("{stem}.json"));
            set.signing.push(parse_pem(contents, sidecar, &path)?);
        } else if name.ends_with(".jwk") {
            let stem = name.trim_end_matches(".jwk");
            match parse_jwk(contents, stem, &path)? {
                Parsed::Key(key) => set.signing.push(key),
                Parsed::Secret(secret) => set.secrets.push(secret),
            }
        }
    }
    Ok(set)
}

fn parse_pem(
    contents: &[u8],
    sidecar: Option<&Vec<u8>>,
    path: &str,
) -> Result<SigningKey, KeySourceError> {
    let invalid_key = |source| KeySourceError::InvalidKey {
        path: path.to_owned(),
        source,
    };
    let sidecar_path = format!("{}.json", path.trim_end_matches(".pem"));
    let invalid_metadata = |reason: String| KeySourceError::InvalidMetadata {
        path: sidecar_path.clone(),
        reason,
    };
    let metadata = match sidecar {
        Some(json) => serde_json::from_slice::<KeyMetadata>(json)
            .map_err(|error| invalid_metadata(error.to_string()))?,
        None => KeyMetadata::default(),
    };
    let alg =
        parse_alg(metadata.alg.as_deref()).map_err(|error| invalid_metadata(error.to_string()))?;
    let text = std::str::from_utf8(contents)
        .map_err(|_| invalid_metadata_at(path, "not UTF-8 text".to_owned()))?;
    let key = SigningKey::from_pem(text, alg).map_err(invalid_key)?;
    Ok(apply_metadata(key, &metadata))
}

enum Parsed {
    Key(SigningKey),
    Secret(SessionSecret),
}

/// The members of a `.jwk` file this module reads besides the key material.
#[derive(Deserialize)]
struct JwkMembers {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    iat: Option<u64>,
    nbf: Option<u64>,
    exp: Option<u64>,
    k: Option<String>,
}

fn parse_jwk(contents: &[u8], stem: &str, path: &str) -> Result<Parsed, KeySourceError> {
    let invalid = |reason: String| invalid_metadata_at(path, reason);
    let jwk: serde_json::Value =
        serde_json::from_slice(contents).map_err(|error| invalid(error.to_string()))?;
    let members: JwkMembers =
        serde_json::from_value(jwk.clone()).map_err(|error| invalid(error.to_string()))?;
    if members.kty == "oct" {
        let k = members.k.as_deref().unwrap_or_default();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(k.trim_end_matches('='))
            .map_err(|_| invalid("`k` is not base64url".to_owned()))?;
        let id = members.kid.unwrap_or_else(|| stem.to_owned());
        let secret =
            SessionSecret::new(id, bytes).map_err(|source| KeySourceError::InvalidKey {
                path: path.to_owned(),
                source,
            })?;
        let created = Timestamp(members.iat.unwrap_or(0));
        return Ok(Parsed::Secret(
            secret
                .with_created(created)
                .with_not_before(Timestamp(members.nbf.unwrap_or(0))),
        ));
    }
    let alg = parse_alg(members.alg.as_deref()).map_err(|error| invalid(error.to_string()))?;
    let key =
        SigningKey::from_private_jwk(&jwk, alg).map_err(|source| KeySourceError::InvalidKey {
            path: path.to_owned(),
            source,
        })?;
    let metadata = KeyMetadata {
        kid: members.kid,
        alg: None,
        created: members.iat,
        not_before: members.nbf,
        expires: members.exp,
    };
    Ok(Parsed::Key(apply_metadata(key, &metadata)))
}

/// The `alg` a file names, if it names one.
fn parse_alg(name: Option<&str>) -> Result<Option<Algorithm>, UnknownAlgorithm> {
    name.map(str::parse::<Algorithm>).transpose()
}

fn apply_metadata(key: SigningKey, metadata: &KeyMetadata) -> SigningKey {
    let mut key = key
        .with_created(Timestamp(metadata.created.unwrap_or(0)))
        .with_not_before(Timestamp(metadata.not_before.unwrap_or(0)));
    if let Some(expires) = metadata.expires {
        key = key.with_expires(Timestamp(expires));
    }
    if let Some(kid) = &metadata.kid {
        key = key.with_kid(kid.clone());
    }
    key
}

fn invalid_metadata_at(path: &str, reason: String) -> KeySourceError {
    KeySourceError::InvalidMetadata {
        path: path.to_owned(),
        reason,
    }
}

/// Files to write and remove in one step.
#[derive(Debug, Default, Clone)]
pub struct KeyFileChange {
    /// Files to create. None may exist yet: keys and secrets are never overwritten.
    pub write: KeyFiles,
    /// Files to remove.
    pub remove: Vec<String>,
}

/// A source `sigil keys generate|rotate` can write to: a directory, a Kubernetes Secret.
#[async_trait]
pub trait KeyFileStore: KeySource {
    /// The files the source holds now.
    async fn files(&self) -> Result<KeyFiles, KeySourceError>;

    /// Creates and removes files, in one step where the backend allows: a Secret is replaced
    /// once, guarded by the version read, and fails with [`KeySourceError::Conflict`] if
    /// someone else wrote first. A file to create that exists already fails the change with
    /// [`KeySourceError::AlreadyExists`], changing nothing.
    async fn apply(&self, change: KeyFileChange) -> Result<(), KeySourceError>;
}
