//! Public JWKs (RFC 7517/7518/8037) and their RFC 7638 thumbprints.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order,
/// base64url.
pub(crate) fn thumbprint(jwk: &Value) -> String {
    let member = |name: &str| jwk.get(name).and_then(Value::as_str).unwrap_or_default();
    let canonical = match member("kty") {
        "RSA" => format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            member("e"),
            member("n")
        ),
        "EC" => format!(
            r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
            member("crv"),
            member("x"),
            member("y")
        ),
        _ => format!(
            r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#,
            member("crv"),
            member("x")
        ),
    };
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

pub(crate) mod public_jwk {
    use super::*;

    pub(crate) fn rsa(modulus: &[u8], exponent: &[u8]) -> Value {
        json!({ "kty": "RSA", "n": URL_SAFE_NO_PAD.encode(modulus), "e": URL_SAFE_NO_PAD.encode(exponent) })
    }

    /// From an uncompressed P-256 point (`0x04 || x || y`).
    pub(crate) fn p256(point: &[u8]) -> Option<Value> {
        let (x, y) = (point.get(1..33)?, point.get(33..65)?);
        (point.first() == Some(&4) && point.len() == 65).then(|| {
            json!({ "kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y) })
        })
    }

    pub(crate) fn ed25519(public: &[u8]) -> Value {
        json!({ "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(public) })
    }
}
