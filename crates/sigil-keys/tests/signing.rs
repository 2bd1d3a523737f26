//! Signing with the key ring, checked by an independent JWT library; verification refusing
//! forged, tampered and algorithm-confused tokens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sigil_core::signing::{TokenSigner, VerifyError};
use sigil_core::time::Timestamp;
use sigil_keys::{Algorithm, KeyRing, SigningKey};

fn claims() -> Value {
    json!({ "iss": "https://sigil.test", "sub": "app", "aud": "https://api.test", "exp": 4_000_000_000u64, "iat": 1, "jti": "j", "scope": "a" })
}

fn ring(alg: Algorithm) -> KeyRing {
    let (key, _) = SigningKey::generate(alg).unwrap();
    KeyRing::new(vec![key], alg).unwrap()
}

fn sign(ring: &KeyRing) -> String {
    ring.sign("at+jwt", claims().to_string().as_bytes())
        .unwrap()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

#[test]
fn every_algorithm_verifies_with_jsonwebtoken_against_the_jwks() {
    for alg in Algorithm::ALL {
        let ring = ring(alg);
        let token = sign(&ring);
        let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_slice(&ring.jwks_json()).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(format!("{:?}", header.alg), alg.as_str());
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
        let mut validation = jsonwebtoken::Validation::new(header.alg);
        validation.set_audience(&["https://api.test"]);
        let data = jsonwebtoken::decode::<Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(),
            &validation,
        )
        .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(data.claims, claims());
        let ours = ring.verify(&token).unwrap();
        assert_eq!(Value::Object(ours.claims), claims());
        assert_eq!(ours.typ.as_deref(), Some("at+jwt"));
    }
}

#[test]
fn tampering_is_detected() {
    for alg in Algorithm::ALL {
        let ring = ring(alg);
        let token = sign(&ring);
        let parts: Vec<&str> = token.split('.').collect();
        let forged_claims = b64(&json!({ "sub": "admin" }));
        let tampered_payload = format!("{}.{}.{}", parts[0], forged_claims, parts[2]);
        assert_eq!(
            ring.verify(&tampered_payload).unwrap_err(),
            VerifyError::BadSignature,
            "{alg}"
        );
        let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        signature[0] ^= 1;
        let tampered_signature = format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            URL_SAFE_NO_PAD.encode(signature)
        );
        assert_eq!(
            ring.verify(&tampered_signature).unwrap_err(),
            VerifyError::BadSignature,
            "{alg}"
        );
        assert_eq!(ring.verify("a.b").unwrap_err(), VerifyError::Malformed);
        assert_eq!(
            ring.verify(&format!("{token}.x")).unwrap_err(),
            VerifyError::Malformed
        );
    }
}

#[test]
fn algorithm_confusion_is_refused() {
    let ring = ring(Algorithm::RS256);
    let token = sign(&ring);
    let parts: Vec<&str> = token.split('.').collect();
    let kid = ring.keys()[0].kid().to_owned();
    for alg in ["PS256", "HS256", "none", "ES256"] {
        let header = b64(&json!({ "alg": alg, "kid": kid, "typ": "at+jwt" }));
        let relabeled = format!("{header}.{}.{}", parts[1], parts[2]);
        assert_eq!(
            ring.verify(&relabeled).unwrap_err(),
            VerifyError::UnknownKey,
            "{alg}"
        );
    }
    // An HS256 token keyed with the public key's bytes, the classic confusion attack.
    let n = ring.keys()[0].public_jwk()["n"]
        .as_str()
        .unwrap()
        .to_owned();
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some(kid.clone()),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
        },
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(n.as_bytes()),
    )
    .unwrap();
    assert_eq!(ring.verify(&hs).unwrap_err(), VerifyError::UnknownKey);
}

#[test]
fn a_different_key_under_the_same_kid_is_refused() {
    let ring_a = ring(Algorithm::ES256);
    let ring_b = ring(Algorithm::ES256);
    let token_b = sign(&ring_b);
    let kid_a = ring_a.keys()[0].kid().to_owned();
    let parts: Vec<&str> = token_b.split('.').collect();
    let header = b64(&json!({ "alg": "ES256", "kid": kid_a, "typ": "at+jwt" }));
    assert_eq!(
        ring_a
            .verify(&format!("{header}.{}.{}", parts[1], parts[2]))
            .unwrap_err(),
        VerifyError::BadSignature
    );
    assert_eq!(
        ring_a.verify(&token_b).unwrap_err(),
        VerifyError::UnknownKey
    );
}

#[test]
fn the_newest_valid_key_signs_and_all_are_published() {
    let (old, _) = SigningKey::generate(Algorithm::ES256).unwrap();
    let (_, new_pem) = SigningKey::generate(Algorithm::ES256).unwrap();
    let new = SigningKey::from_pem(&new_pem, None, Timestamp(1_000)).unwrap();
    let (future, future_pem) = SigningKey::generate(Algorithm::ES256).unwrap();
    let future_kid = future.kid().to_owned();
    let future = SigningKey::from_pem(&future_pem, None, Timestamp(5_000)).unwrap();
    let new_kid = new.kid().to_owned();
    let ring = KeyRing::new(vec![old, new, future], Algorithm::ES256).unwrap();
    assert_eq!(
        ring.active(Algorithm::ES256, Timestamp(2_000))
            .unwrap()
            .kid(),
        new_kid
    );
    assert_eq!(
        ring.active(Algorithm::ES256, Timestamp(6_000))
            .unwrap()
            .kid(),
        future_kid
    );
    assert!(ring.active(Algorithm::RS256, Timestamp(2_000)).is_none());
    let jwks: Value = serde_json::from_slice(&ring.jwks_json()).unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 3);
}

#[test]
fn jwks_holds_no_private_members() {
    for alg in Algorithm::ALL {
        let ring = ring(alg);
        let jwks: Value = serde_json::from_slice(&ring.jwks_json()).unwrap();
        for key in jwks["keys"].as_array().unwrap() {
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(key.get(private).is_none(), "{alg} leaks {private}");
            }
            assert_eq!(key["use"], "sig");
            assert_eq!(key["alg"], alg.as_str());
        }
    }
}
