//! Signing with the key ring, checked by an independent JWT library against the published
//! JWKS; verification refusing forged, tampered, malformed and algorithm-confused tokens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sigil_core::signing::{SigningError, TokenSigner, VerifyError};
use sigil_core::time::Timestamp;
use sigil_keys::{Algorithm, KeyRing, KeyRingError, SigningKey};

fn claims() -> Value {
    json!({
        "iss": "https://sigil.test", "sub": "app", "aud": "https://api.test", "client_id": "app",
        "scope": "a b", "iat": 1_700_000_000u64, "exp": 4_000_000_000u64, "jti": "j1",
    })
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

fn parts(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

/// Decodes `token` with jsonwebtoken, using only the ring's published JWKS.
fn verify_independently(ring: &KeyRing, token: &str) -> Result<Value, String> {
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_slice(&ring.jwks_json()).unwrap();
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let jwk = jwks
        .find(header.kid.as_deref().ok_or("no kid")?)
        .ok_or("kid not in the JWKS")?;
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&["https://api.test"]);
    validation.set_issuer(&["https://sigil.test"]);
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

#[test]
fn every_algorithm_signs_tokens_an_independent_library_verifies_with_the_jwks() {
    for alg in Algorithm::ALL {
        let ring = ring(alg);
        let token = sign(&ring);
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

#[test]
fn other_typ_values_are_signed_and_escaped() {
    let ring = ring(Algorithm::EdDSA);
    for typ in ["JWT", "logout+jwt", "x-custom+jwt", r#"odd"typ\"#] {
        let token = ring.sign(typ, claims().to_string().as_bytes()).unwrap();
        assert_eq!(
            jsonwebtoken::decode_header(&token).unwrap().typ.as_deref(),
            Some(typ)
        );
        assert_eq!(ring.verify(&token).unwrap().typ.as_deref(), Some(typ));
    }
}

#[test]
fn tampered_tokens_are_refused() {
    for alg in Algorithm::ALL {
        let ring = ring(alg);
        let [header, payload, signature] = <[String; 3]>::try_from(parts(&sign(&ring))).unwrap();

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

#[test]
fn malformed_tokens_are_refused() {
    let ring = ring(Algorithm::ES256);
    let token = sign(&ring);
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

#[test]
fn unknown_or_missing_kids_are_refused() {
    let ring = ring(Algorithm::RS256);
    let [_, payload, signature] = <[String; 3]>::try_from(parts(&sign(&ring))).unwrap();
    for header in [
        json!({ "alg": "RS256", "kid": "not-a-key-of-ours", "typ": "at+jwt" }),
        json!({ "alg": "RS256", "typ": "at+jwt" }),
    ] {
        let token = format!("{}.{payload}.{signature}", b64(&header));
        assert_eq!(ring.verify(&token).unwrap_err(), VerifyError::UnknownKey);
    }
    // A token of another ring's key: its kid is unknown here.
    assert_eq!(
        ring.verify(&sign(&self::ring(Algorithm::RS256)))
            .unwrap_err(),
        VerifyError::UnknownKey
    );
}

#[test]
fn a_header_naming_another_algorithm_than_the_keys_is_refused() {
    let ring = ring(Algorithm::RS256);
    let [_, payload, signature] = <[String; 3]>::try_from(parts(&sign(&ring))).unwrap();
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
    let [_, payload, signature] = <[String; 3]>::try_from(parts(&sign(&pss))).unwrap();
    let header = b64(&json!({ "alg": "RS256", "kid": pss.keys()[0].kid(), "typ": "at+jwt" }));
    assert_eq!(
        pss.verify(&format!("{header}.{payload}.{signature}"))
            .unwrap_err(),
        VerifyError::UnknownKey
    );
}

#[test]
fn a_token_signed_by_another_key_under_our_kid_is_refused() {
    for alg in Algorithm::ALL {
        let ours = ring(alg);
        let theirs = ring(alg);
        let [_, payload, signature] = <[String; 3]>::try_from(parts(&sign(&theirs))).unwrap();
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

#[test]
fn the_newest_valid_key_signs_and_every_key_is_published_and_verifies() {
    let key = |not_before: u64, created: u64| {
        let (key, _) = SigningKey::generate(Algorithm::ES256).unwrap();
        key.with_not_before(Timestamp(not_before))
            .with_created(Timestamp(created))
    };
    let (old, current, same_start_newer, future) =
        (key(0, 0), key(1_000, 900), key(1_000, 950), key(5_000, 950));
    let kids: Vec<String> = [&old, &current, &same_start_newer, &future]
        .iter()
        .map(|key| key.kid().to_owned())
        .collect();
    let ring = KeyRing::new(
        vec![old, current, same_start_newer, future],
        Algorithm::ES256,
    )
    .unwrap();
    let active = |now: u64| {
        ring.active(Algorithm::ES256, Timestamp(now))
            .map(|key| key.kid().to_owned())
    };
    assert_eq!(active(500), Some(kids[0].clone()));
    assert_eq!(
        active(2_000),
        Some(kids[2].clone()),
        "created breaks the tie"
    );
    assert_eq!(active(5_000), Some(kids[3].clone()));
    assert!(ring.active(Algorithm::RS256, Timestamp(2_000)).is_none());

    let token = ring
        .sign_at("at+jwt", claims().to_string().as_bytes(), Timestamp(2_000))
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
        .unwrap();
    assert!(ring.verify(&old_token).is_ok());
    assert!(verify_independently(&ring, &old_token).is_ok());
}

#[test]
fn signing_without_an_active_key_fails() {
    let (key, _) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let ring = KeyRing::new(vec![key.with_not_before(Timestamp(10))], Algorithm::EdDSA).unwrap();
    assert!(matches!(
        ring.sign_at("at+jwt", b"{}", Timestamp(9)),
        Err(SigningError::NoActiveKey(alg)) if alg == "EdDSA"
    ));
    let ring = KeyRing::new(Vec::new(), Algorithm::RS256).unwrap();
    assert!(ring.sign("at+jwt", b"{}").is_err());
    assert_eq!(&ring.jwks_json()[..], br#"{"keys":[]}"#);
}

#[test]
fn the_same_key_twice_is_refused_even_under_two_algorithms() {
    let (_, pem) = SigningKey::generate(Algorithm::RS256).unwrap();
    let rs = SigningKey::from_pem(&pem, Some(Algorithm::RS256)).unwrap();
    let ps = SigningKey::from_pem(&pem, Some(Algorithm::PS256)).unwrap();
    let kid = rs.kid().to_owned();
    assert!(matches!(
        KeyRing::new(vec![rs, ps], Algorithm::RS256),
        Err(KeyRingError::DuplicateKid(duplicate)) if duplicate == kid
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
