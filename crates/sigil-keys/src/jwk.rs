//! Public JWKs (RFC 7517, 7518, 8037) and their RFC 7638 thumbprints.

use crate::Algorithm;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order, with no
/// whitespace, base64url. (The members are base64url or fixed names, so need no escaping.)
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

/// Public JWKs from raw public key material.
pub(crate) mod public_jwk {
    use super::*;

    /// From the big-endian modulus and exponent.
    pub(crate) fn rsa(modulus: &[u8], exponent: &[u8]) -> Value {
        json!({ "kty": "RSA", "n": URL_SAFE_NO_PAD.encode(modulus), "e": URL_SAFE_NO_PAD.encode(exponent) })
    }

    /// From an uncompressed P-256 point (`0x04 || x || y`).
    pub(crate) fn p256(point: &[u8]) -> Option<Value> {
        let (&0x04, xy) = point.split_first()? else {
            return None;
        };
        let (x, y) = xy.split_at_checked(32)?;
        (y.len() == 32).then(|| {
            json!({ "kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y) })
        })
    }

    /// From the 32-byte Ed25519 public key.
    pub(crate) fn ed25519(public: &[u8]) -> Value {
        json!({ "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(public) })
    }

    /// Adds the members a published signing key carries: `kid`, `alg` and `use: sig`.
    pub(crate) fn with_use(mut jwk: Value, kid: &str, alg: Algorithm) -> Value {
        if let Some(members) = jwk.as_object_mut() {
            members.insert("kid".into(), kid.into());
            members.insert("alg".into(), alg.as_str().into());
            members.insert("use".into(), "sig".into());
        }
        jwk
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of RFC 7638 §3.1.
    #[test]
    fn the_rfc_7638_example_thumbprint() {
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            thumbprint(&jwk),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn p256_points_must_be_uncompressed_and_65_bytes() {
        assert!(public_jwk::p256(&[0x04; 65]).is_some());
        let compressed_tag = [&[0x02][..], &[0x04; 64]].concat();
        assert!(public_jwk::p256(&compressed_tag).is_none());
        assert!(public_jwk::p256(&[0x04; 64]).is_none());
        assert!(public_jwk::p256(&[0x04; 66]).is_none());
    }
}
