//! Signing with the key ring, checked by an independent JWT library against the published
//! JWKS; verification refusing forged, tampered, malformed and algorithm-confused tokens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::verify_with_jwks;
use serde_json::{Value, json};
use sigil_core::signing::{SigningError, TokenSigner, VerifyError};
use sigil_core::time::Timestamp;
use sigil_keys::{
    Algorithm, KeyRing, KeyRingError, KeySet, KeyState, RotationPolicy, SessionSecret, SigningKey,
};
use std::time::Duration;

fn claims() -> Value {
    json!({
        "iss": "https://sigil.test", "sub": "app", "aud": "https://api.test", "client_id": "app",
        "scope": "a b", "iat": 1_700_000_000u64, "exp": 4_000_000_000u64, "jti": "j1",
    })
}

/// A key generated now, dated to the epoch: past any propagation period, so it signs as the
/// regular active key, not as a fallback.
fn ready_key(alg: Algorithm) -> SigningKey {
    let (key, _) = SigningKey::generate(alg).unwrap();
    key.with_created(Timestamp(0)).with_not_before(Timestamp(0))
}

fn ring(alg: Algorithm) -> KeyRing {
    KeyRing::new(
        KeySet::new(vec![ready_key(alg)], Vec::new()),
        alg,
        RotationPolicy::default(),
    )
    .unwrap()
}

async fn sign(ring: &KeyRing) -> String {
    ring.sign("at+jwt", claims().to_string().as_bytes())
        .await
        .unwrap()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn parts(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

/// Decodes `token` with jsonwebtoken, using only the ring's published JWKS.
fn verify_independently(ring: &KeyRing, token: &str) -> Result<Value, String> {
    verify_with_jwks(ring, token, |validation| {
        validation.set_audience(&["https://api.test"]);
        validation.set_issuer(&["https://sigil.test"]);
    })
}

#[tokio::test]
async fn every_algorithm_signs_tokens_an_independent_library_verifies_with_the_jwks() {
    for alg in Algorithm::ALL {
        let ring = ring(alg);
        let token = sign(&ring).await;
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(format!("{:?}", header.alg), alg.as_str());
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.kid.as_deref(), Some(ring.keys()[0].kid()));
        assert_eq!(
            verify_independently(&ring, &token).unwrap_or_else(|e| panic!("{alg}: {e}")),
            claims()
        );

        let ours = ring.verify(&token).unwrap();
        assert_eq!(Value::Object(ours.claims), claims());
        assert_eq!(ours.typ.as_deref(), Some("at+jwt"));

        // JWS signatures: RSA as long as the modulus, ECDSA the fixed r || s, Ed25519 64 bytes.
        let signature = URL_SAFE_NO_PAD.decode(&parts(&token)[2]).unwrap();
        let expected = match alg {
            Algorithm::RS256 | Algorithm::PS256 => 256,
            Algorithm::ES256 | Algorithm::EdDSA => 64,
        };
        assert_eq!(signature.len(), expected, "{alg}");
    }
}

#[test]
fn the_kid_is_the_rfc_7638_thumbprint_as_computed_independently() {
    for alg in Algorithm::ALL {
        let ring = ring(alg);
        let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_slice(&ring.jwks_json()).unwrap();
        let jwk = &jwks.keys[0];
        assert_eq!(
            jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
                .unwrap(),
            ring.keys()[0].kid(),
            "{alg}"
        );
    }
}

#[tokio::test]
async fn other_typ_values_are_signed_and_escaped() {
    let ring = ring(Algorithm::EdDSA);
    for typ in ["JWT", "logout+jwt", "x-custom+jwt", r#"odd"typ\"#] {
        let token = ring
            .sign(typ, claims().to_string().as_bytes())
            .await
            .unwrap();
        assert_eq!(
            jsonwebtoken::decode_header(&token).unwrap().typ.as_deref(),
            Some(typ)
        );
        assert_eq!(ring.verify(&token).unwrap().typ.as_deref(), Some(typ));
    }
}

#[tokio::test]
async fn tampered_tokens_are_refused() {
    for alg in Algorithm::ALL {
        let ring = ring(alg);
        let [header, payload, signature] =
            <[String; 3]>::try_from(parts(&sign(&ring).await)).unwrap();

        let forged_claims = b64(&json!({ "sub": "admin" }));
        let forged = format!("{header}.{forged_claims}.{signature}");
        assert_eq!(
            ring.verify(&forged).unwrap_err(),
            VerifyError::BadSignature,
            "{alg}"
        );

        let kid = ring.keys()[0].kid().to_owned();
        let other_typ = b64(&json!({ "alg": alg.as_str(), "kid": kid, "typ": "JWT" }));
        let retyped = format!("{other_typ}.{payload}.{signature}");
        assert_eq!(
            ring.verify(&retyped).unwrap_err(),
            VerifyError::BadSignature,
            "{alg}"
        );

        let mut bytes = URL_SAFE_NO_PAD.decode(&signature).unwrap();
        bytes[10] ^= 1;
        let flipped = format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert_eq!(
            ring.verify(&flipped).unwrap_err(),
            VerifyError::BadSignature,
            "{alg}"
        );

        let truncated = format!(
            "{header}.{payload}.{}",
            URL_SAFE_NO_PAD.encode(&bytes[..32])
        );
        assert_eq!(
            ring.verify(&truncated).unwrap_err(),
            VerifyError::BadSignature,
            "{alg}"
        );

        let unsigned = format!("{header}.{payload}.");
        assert_eq!(
            ring.verify(&unsigned).unwrap_err(),
            VerifyError::BadSignature,
            "{alg}"
        );
    }
}

#[tokio::test]
async fn malformed_tokens_are_refused() {
    let ring = ring(Algorithm::ES256);
    let token = sign(&ring).await;
    let [header, payload, signature] = <[String; 3]>::try_from(parts(&token)).unwrap();
    let kid = ring.keys()[0].kid().to_owned();
    let with_crit = b64(&json!({ "alg": "ES256", "kid": kid, "crit": ["exp"], "exp": 1 }));
    let duplicate_alg =
        URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"ES256","alg":"none","kid":"{kid}"}}"#));
    for malformed in [
        String::new(),
        "a.b".to_owned(),
        format!("{token}.x"),
        format!("{header}={payload}.{signature}"),
        format!("{header}.{payload}.{signature}="),
        format!(
            "{}.{payload}.{signature}",
            URL_SAFE_NO_PAD.encode("not json")
        ),
        format!("{}.{payload}.{signature}", b64(&json!(["ES256"]))),
        format!("{}.{payload}.{signature}", b64(&json!({ "kid": kid }))),
        format!("{with_crit}.{payload}.{signature}"),
        format!("{duplicate_alg}.{payload}.{signature}"),
    ] {
        assert_eq!(
            ring.verify(&malformed).unwrap_err(),
            VerifyError::Malformed,
            "{malformed}"
        );
    }
}

#[tokio::test]
async fn unknown_or_missing_kids_are_refused() {
    let ring = ring(Algorithm::RS256);
    let [_, payload, signature] = <[String; 3]>::try_from(parts(&sign(&ring).await)).unwrap();
    for header in [
        json!({ "alg": "RS256", "kid": "not-a-key-of-ours", "typ": "at+jwt" }),
        json!({ "alg": "RS256", "typ": "at+jwt" }),
    ] {
        let token = format!("{}.{payload}.{signature}", b64(&header));
        assert_eq!(ring.verify(&token).unwrap_err(), VerifyError::UnknownKey);
    }
    // A token of another ring's key: its kid is unknown here.
    assert_eq!(
        ring.verify(&sign(&self::ring(Algorithm::RS256)).await)
            .unwrap_err(),
        VerifyError::UnknownKey
    );
}

#[tokio::test]
async fn a_header_naming_another_algorithm_than_the_keys_is_refused() {
    let ring = ring(Algorithm::RS256);
    let [_, payload, signature] = <[String; 3]>::try_from(parts(&sign(&ring).await)).unwrap();
    let kid = ring.keys()[0].kid().to_owned();
    for alg in [
        "PS256", "HS256", "none", "None", "ES256", "EdDSA", "rs256", "",
    ] {
        let header = b64(&json!({ "alg": alg, "kid": kid, "typ": "at+jwt" }));
        let relabeled = format!("{header}.{payload}.{signature}");
        assert_eq!(
            ring.verify(&relabeled).unwrap_err(),
            VerifyError::UnknownKey,
            "{alg}"
        );
    }
    // `none` with no signature at all.
    let none = b64(&json!({ "alg": "none", "kid": kid }));
    assert_eq!(
        ring.verify(&format!("{none}.{payload}.")).unwrap_err(),
        VerifyError::UnknownKey
    );

    // The classic confusion: HS256 keyed with the public key's bytes.
    let n = ring.keys()[0].public_jwk()["n"]
        .as_str()
        .unwrap()
        .to_owned();
    for secret in [n.as_bytes(), &URL_SAFE_NO_PAD.decode(&n).unwrap()] {
        let hs = jsonwebtoken::encode(
            &jsonwebtoken::Header {
                kid: Some(kid.clone()),
                ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
            },
            &claims(),
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap();
        assert_eq!(ring.verify(&hs).unwrap_err(), VerifyError::UnknownKey);
    }

    // Same key type, other padding: a PS256 key's token relabeled RS256.
    let pss = self::ring(Algorithm::PS256);
    let [_, payload, signature] = <[String; 3]>::try_from(parts(&sign(&pss).await)).unwrap();
    let header = b64(&json!({ "alg": "RS256", "kid": pss.keys()[0].kid(), "typ": "at+jwt" }));
    assert_eq!(
        pss.verify(&format!("{header}.{payload}.{signature}"))
            .unwrap_err(),
        VerifyError::UnknownKey
    );
}

#[tokio::test]
async fn a_token_signed_by_another_key_under_our_kid_is_refused() {
    for alg in Algorithm::ALL {
        let ours = ring(alg);
        let theirs = ring(alg);
        let [_, payload, signature] = <[String; 3]>::try_from(parts(&sign(&theirs).await)).unwrap();
        let header =
            b64(&json!({ "alg": alg.as_str(), "kid": ours.keys()[0].kid(), "typ": "at+jwt" }));
        assert_eq!(
            ours.verify(&format!("{header}.{payload}.{signature}"))
                .unwrap_err(),
            VerifyError::BadSignature,
            "{alg}"
        );
    }
}

/// Propagation 100 s, retention 10 000 s: small enough to reason about with explicit times.
fn policy() -> RotationPolicy {
    RotationPolicy {
        propagation: Duration::from_secs(100),
        rotation: Duration::from_secs(1_000),
        retention: Duration::from_secs(10_000),
    }
}

#[tokio::test]
async fn the_newest_key_past_its_propagation_signs_and_every_key_is_published_and_verifies() {
    let key = |not_before: u64, created: u64| {
        let (key, _) = SigningKey::generate(Algorithm::ES256).unwrap();
        key.with_not_before(Timestamp(not_before))
            .with_created(Timestamp(created))
    };
    // Signs from max(not_before, created + 100): 100, 1 000, 1 000, 5 000.
    let (old, current, same_start_newer, future) =
        (key(0, 0), key(1_000, 800), key(1_000, 850), key(5_000, 950));
    let kids: Vec<String> = [&old, &current, &same_start_newer, &future]
        .iter()
        .map(|key| key.kid().to_owned())
        .collect();
    let ring = KeyRing::build(
        KeySet::new(vec![old, current, same_start_newer, future], Vec::new()),
        Algorithm::ES256,
        policy(),
        Timestamp(2_000),
        None,
    )
    .unwrap();
    let active = |now: u64| {
        ring.active(Algorithm::ES256, Timestamp(now))
            .map(|key| key.kid().to_owned())
    };
    assert_eq!(active(500), Some(kids[0].clone()));
    assert_eq!(active(999), Some(kids[0].clone()));
    assert_eq!(
        active(1_000),
        Some(kids[2].clone()),
        "created breaks the tie"
    );
    assert_eq!(active(4_999), Some(kids[2].clone()));
    assert_eq!(active(5_000), Some(kids[3].clone()));
    assert!(ring.active(Algorithm::RS256, Timestamp(2_000)).is_none());
    assert!(!ring.signs_with_unpropagated_key(Timestamp(2_000)));

    let retired = KeyState::Retired {
        since: Timestamp(1_000),
        retention_ends: Timestamp(11_000),
        held_by_source: true,
    };
    let states: Vec<(String, KeyState)> = ring
        .states(Timestamp(2_000))
        .into_iter()
        .map(|(key, state)| (key.kid().to_owned(), state))
        .collect();
    assert_eq!(
        states,
        [
            (kids[0].clone(), retired),
            (kids[1].clone(), retired),
            (kids[2].clone(), KeyState::Active),
            (
                kids[3].clone(),
                KeyState::Pending {
                    signs_from: Timestamp(5_000)
                }
            ),
        ]
    );

    let token = ring
        .sign_at("at+jwt", claims().to_string().as_bytes(), Timestamp(2_000))
        .await
        .unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().kid,
        Some(kids[2].clone())
    );

    let jwks: Value = serde_json::from_slice(&ring.jwks_json()).unwrap();
    let published: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|jwk| jwk["kid"].as_str().unwrap())
        .collect();
    assert_eq!(published, kids, "every key, the pending one too");

    // Tokens of a key that no longer signs still verify while it is published.
    let old_token = ring
        .sign_at("at+jwt", claims().to_string().as_bytes(), Timestamp(500))
        .await
        .unwrap();
    assert!(ring.verify(&old_token).is_ok());
    assert!(verify_independently(&ring, &old_token).is_ok());
}

#[tokio::test]
async fn a_key_created_now_does_not_sign_before_the_propagation_period_even_with_an_older_not_before()
 {
    let (old, _) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let (new, _) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let (old_kid, new_kid) = (old.kid().to_owned(), new.kid().to_owned());
    let old = old.with_created(Timestamp(0)).with_not_before(Timestamp(0));
    // As `sigil keys rotate` writes it: created now, no not_before of its own.
    let new = new
        .with_created(Timestamp(10_000))
        .with_not_before(Timestamp(0));
    let ring = KeyRing::build(
        KeySet::new(vec![old, new], Vec::new()),
        Algorithm::EdDSA,
        policy(),
        Timestamp(10_000),
        None,
    )
    .unwrap();
    let active = |now: u64| {
        ring.active(Algorithm::EdDSA, Timestamp(now))
            .map(|key| key.kid().to_owned())
    };
    assert_eq!(active(10_000), Some(old_kid.clone()));
    assert_eq!(active(10_099), Some(old_kid));
    assert_eq!(active(10_100), Some(new_kid));
}

#[tokio::test]
async fn signing_without_a_usable_key_fails() {
    // Expired: it stops signing at its expiry, and nothing takes its place.
    let expiring = ready_key(Algorithm::EdDSA).with_expires(Timestamp(10));
    let ring = KeyRing::build(
        KeySet::new(vec![expiring], Vec::new()),
        Algorithm::EdDSA,
        policy(),
        Timestamp(9),
        None,
    )
    .unwrap();
    assert!(ring.sign_at("at+jwt", b"{}", Timestamp(9)).await.is_ok());
    assert!(matches!(
        ring.sign_at("at+jwt", b"{}", Timestamp(10)).await,
        Err(SigningError::NoActiveKey(alg)) if alg == "EdDSA"
    ));

    // Only a key for another algorithm.
    let ring = KeyRing::new(
        KeySet::new(vec![ready_key(Algorithm::ES256)], Vec::new()),
        Algorithm::RS256,
        policy(),
    )
    .unwrap();
    assert!(matches!(
        ring.sign("at+jwt", b"{}").await,
        Err(SigningError::NoActiveKey(alg)) if alg == "RS256"
    ));

    let ring = KeyRing::new(KeySet::default(), Algorithm::RS256, policy()).unwrap();
    assert!(ring.sign("at+jwt", b"{}").await.is_err());
    assert_eq!(&ring.jwks_json()[..], br#"{"keys":[]}"#);
    let ring = KeyRing::empty(Algorithm::RS256, policy());
    assert!(matches!(
        ring.sign("at+jwt", b"{}").await,
        Err(SigningError::NoActiveKey(_))
    ));
    assert_eq!(&ring.jwks_json()[..], br#"{"keys":[]}"#);
}

#[tokio::test]
async fn a_lone_key_still_in_propagation_signs_and_the_ring_reports_it() {
    // A brand-new deployment: its only key was just created. Refusing every token would be
    // worse than signing with a key some validators may not have fetched yet.
    let key = ready_key(Algorithm::ES256).with_created(Timestamp(1_000));
    let kid = key.kid().to_owned();
    let ring = KeyRing::build(
        KeySet::new(vec![key], Vec::new()),
        Algorithm::ES256,
        policy(),
        Timestamp(1_000),
        None,
    )
    .unwrap();
    let token = ring
        .sign_at("at+jwt", b"{}", Timestamp(1_000))
        .await
        .unwrap();
    assert_eq!(jsonwebtoken::decode_header(&token).unwrap().kid, Some(kid));
    assert!(ring.signs_with_unpropagated_key(Timestamp(1_000)));
    assert!(ring.signs_with_unpropagated_key(Timestamp(1_099)));
    assert!(!ring.signs_with_unpropagated_key(Timestamp(1_100)));
}

#[test]
fn the_same_key_twice_is_refused_even_under_two_algorithms() {
    let (_, pem) = SigningKey::generate(Algorithm::RS256).unwrap();
    let rs = SigningKey::from_pem(&pem, Some(Algorithm::RS256)).unwrap();
    let ps = SigningKey::from_pem(&pem, Some(Algorithm::PS256)).unwrap();
    let kid = rs.kid().to_owned();
    assert!(matches!(
        KeyRing::new(KeySet::new(vec![rs, ps], Vec::new()), Algorithm::RS256, policy()),
        Err(KeyRingError::DuplicateKid(duplicate)) if duplicate == kid
    ));
}

#[test]
fn two_session_secrets_with_the_same_id_are_refused() {
    let secrets = vec![
        SessionSecret::new("session-1", vec![1; 32]).unwrap(),
        SessionSecret::new("session-1", vec![2; 32]).unwrap(),
    ];
    assert!(matches!(
        KeyRing::new(KeySet::new(Vec::new(), secrets), Algorithm::RS256, policy()),
        Err(KeyRingError::DuplicateSecret(duplicate)) if duplicate == "session-1"
    ));
}

#[test]
fn the_jwks_holds_public_members_only() {
    for alg in Algorithm::ALL {
        let ring = ring(alg);
        let jwks: Value = serde_json::from_slice(&ring.jwks_json()).unwrap();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        let mut members: Vec<&str> = keys[0]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        members.sort_unstable();
        let expected = match alg {
            Algorithm::RS256 | Algorithm::PS256 => vec!["alg", "e", "kid", "kty", "n", "use"],
            Algorithm::ES256 => vec!["alg", "crv", "kid", "kty", "use", "x", "y"],
            Algorithm::EdDSA => vec!["alg", "crv", "kid", "kty", "use", "x"],
        };
        assert_eq!(members, expected, "{alg}");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k", "oth"] {
            assert!(keys[0].get(private).is_none(), "{alg} leaks {private}");
        }
        assert_eq!(keys[0]["use"], "sig");
        assert_eq!(keys[0]["alg"], alg.as_str());
    }
}

#[test]
fn algorithms_parse_display_and_serialize_as_jose_names() {
    for alg in Algorithm::ALL {
        assert_eq!(alg.as_str().parse::<Algorithm>().unwrap(), alg);
        assert_eq!(alg.to_string(), alg.as_str());
        let json = serde_json::to_string(&alg).unwrap();
        assert_eq!(json, format!("\"{alg}\""));
        assert_eq!(serde_json::from_str::<Algorithm>(&json).unwrap(), alg);
    }
    assert_eq!(Algorithm::default(), Algorithm::RS256);
    for unknown in ["rs256", "HS256", "none", "ES384", "Ed25519", ""] {
        assert!(unknown.parse::<Algorithm>().is_err(), "{unknown}");
        assert!(
            serde_json::from_value::<Algorithm>(json!(unknown)).is_err(),
            "{unknown}"
        );
    }
}
