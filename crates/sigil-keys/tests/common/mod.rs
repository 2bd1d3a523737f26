//! What several of these integration tests share: a rotation policy short enough to step
//! through, reading the kids of a JWKS, and verifying a token with an independent library.

#![allow(dead_code)] // each test binary uses its own part of this module

use serde_json::Value;
use sigil_keys::{KeyRing, RotationPolicy};
use std::time::Duration;

/// Propagation 100 s, retention 50 s.
pub fn policy() -> RotationPolicy {
    RotationPolicy {
        propagation: Duration::from_secs(100),
        rotation: Duration::from_secs(1_000),
        retention: Duration::from_secs(50),
    }
}

/// The kids a JWKS document publishes, sorted (the JWKS order means nothing).
pub fn jwks_kids(jwks: &[u8]) -> Vec<String> {
    let jwks: Value = serde_json::from_slice(jwks).unwrap();
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|jwk| jwk["kid"].as_str().unwrap().to_owned())
        .collect();
    kids.sort();
    kids
}

/// Decodes `token` with jsonwebtoken, using only `ring`'s published JWKS; `configure` adjusts
/// the validation for the token's algorithm (audience, issuer, required claims).
pub fn verify_with_jwks(
    ring: &KeyRing,
    token: &str,
    configure: impl FnOnce(&mut jsonwebtoken::Validation),
) -> Result<Value, String> {
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_slice(&ring.jwks_json()).unwrap();
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let jwk = jwks
        .find(header.kid.as_deref().ok_or("no kid")?)
        .ok_or("kid not in the JWKS")?;
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    configure(&mut validation);
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}
