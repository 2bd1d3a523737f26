//! The key-file layout's `.jwk` files: private JWKs (RSA with every CRT member, EC P-256,
//! OKP Ed25519) load as the same key as their PEM, with their `kid`/`alg`/`iat`/`nbf`/`exp`
//! members; `oct` JWKs are session secrets; bad files fail naming themselves; hidden files are
//! ignored.
//!
//! The private JWK members are taken from the DER of the same keys' PEMs (a fixture written
//! by openssl for RSA and P-256, a generated PKCS#8 for Ed25519) with a few lines of DER
//! reading below, so the JWK and the PEM are certainly the same key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sigil_core::signing::TokenSigner as _;
use sigil_core::time::Timestamp;
use sigil_keys::key_files::session_secret_jwk;
use sigil_keys::{
    Algorithm, FileKeySource, KeyError, KeyFiles, KeyRing, KeySet, KeySource, KeySourceError,
    RotationPolicy, SessionSecret, SigningKey, parse_key_files,
};
use std::error::Error as _;

const RSA2048_PKCS1: &str = include_str!("fixtures/rsa2048-pkcs1.pem");
const P256_SEC1_WITH_PARAMS: &str = include_str!("fixtures/p256-sec1-with-params.pem");

/// Splits the first DER element of `input`: (tag, contents, rest).
fn element(input: &[u8]) -> (u8, &[u8], &[u8]) {
    let (tag, first, rest) = (input[0], input[1], &input[2..]);
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        let len = rest[..count]
            .iter()
            .fold(0, |len, &byte| (len << 8) | usize::from(byte));
        (len, &rest[count..])
    };
    (tag, &rest[..len], &rest[len..])
}

/// The contents of every element of a SEQUENCE.
fn sequence(der: &[u8]) -> Vec<(u8, &[u8])> {
    let (tag, mut contents, _) = element(der);
    assert_eq!(tag, 0x30);
    let mut items = Vec::new();
    while !contents.is_empty() {
        let (tag, item, rest) = element(contents);
        items.push((tag, item));
        contents = rest;
    }
    items
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An unsigned big-endian integer as a JWK carries it: no leading zero bytes.
fn b64_uint(bytes: &[u8]) -> String {
    let zeros = bytes.iter().take_while(|&&byte| byte == 0).count();
    b64(&bytes[zeros..])
}

fn pem_der(pem_text: &str, tag: &str) -> Vec<u8> {
    pem::parse_many(pem_text)
        .unwrap()
        .into_iter()
        .find(|block| block.tag() == tag)
        .unwrap()
        .into_contents()
}

/// The fixture RSA key as a private JWK: PKCS#1 `{version, n, e, d, p, q, dp, dq, qi}`.
fn rsa_jwk() -> Value {
    let der = pem_der(RSA2048_PKCS1, "RSA PRIVATE KEY");
    let items = sequence(&der);
    let names = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];
    let mut jwk = json!({ "kty": "RSA" });
    for (name, (tag, value)) in names.iter().zip(&items[1..]) {
        assert_eq!(*tag, 0x02);
        jwk[*name] = json!(b64_uint(value));
    }
    jwk
}

/// The fixture P-256 key as a private JWK: `d` from SEC1, `x`/`y` from the public JWK.
fn ec_jwk() -> Value {
    let der = pem_der(P256_SEC1_WITH_PARAMS, "EC PRIVATE KEY");
    let (tag, d) = sequence(&der)[1];
    assert_eq!((tag, d.len()), (0x04, 32));
    let public = SigningKey::from_pem(P256_SEC1_WITH_PARAMS, None).unwrap();
    let public = public.public_jwk();
    json!({ "kty": "EC", "crv": "P-256", "x": public["x"], "y": public["y"], "d": b64(d) })
}

/// A generated Ed25519 key's PEM and private JWK: the seed is the OCTET STRING inside the
/// PKCS#8 `privateKey` OCTET STRING.
fn ed25519_pem_and_jwk() -> (String, Value) {
    let (key, pem_text) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let der = pem_der(&pem_text, "PRIVATE KEY");
    let (tag, private_key) = sequence(&der)[2];
    assert_eq!(tag, 0x04);
    let (tag, seed, _) = element(private_key);
    assert_eq!((tag, seed.len()), (0x04, 32));
    let jwk = json!({ "kty": "OKP", "crv": "Ed25519", "x": key.public_jwk()["x"], "d": b64(seed) });
    (pem_text, jwk)
}

fn files(entries: &[(&str, Vec<u8>)]) -> KeyFiles {
    entries
        .iter()
        .map(|(name, contents)| ((*name).to_owned(), contents.clone()))
        .collect()
}

fn jwk_file(jwk: &Value) -> Vec<u8> {
    serde_json::to_vec(jwk).unwrap()
}

fn ring_of(key: SigningKey) -> KeyRing {
    let alg = key.alg();
    KeyRing::new(
        KeySet::new(vec![key], Vec::new()),
        alg,
        RotationPolicy::default(),
    )
    .unwrap()
}

/// A token the first key signs verifies with a ring holding only the second.
async fn same_key(signer: SigningKey, verifier: SigningKey) {
    let token = ring_of(signer).sign("at+jwt", b"{}").await.unwrap();
    let verifier = ring_of(verifier);
    assert!(verifier.verify(&token).is_ok());
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_slice(&verifier.jwks_json()).unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwks.keys[0]).unwrap();
    jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
}

/// The key error behind a load error, checking that the message names `file`.
fn key_error<'a>(error: &'a KeySourceError, file: &str) -> &'a KeyError {
    assert!(error.to_string().contains(file), "{error}");
    assert!(
        matches!(error, KeySourceError::InvalidKey { path, .. } if path.ends_with(file)),
        "{error:?}"
    );
    error.source().unwrap().downcast_ref::<KeyError>().unwrap()
}

#[tokio::test]
async fn private_jwks_of_every_type_load_as_the_same_key_as_their_pem() {
    let (ed_pem, ed_jwk) = ed25519_pem_and_jwk();
    let cases = [
        (RSA2048_PKCS1.to_owned(), rsa_jwk(), Algorithm::RS256),
        (P256_SEC1_WITH_PARAMS.to_owned(), ec_jwk(), Algorithm::ES256),
        (ed_pem, ed_jwk, Algorithm::EdDSA),
    ];
    for (pem_text, jwk, alg) in &cases {
        let from_pem = SigningKey::from_pem(pem_text, None).unwrap();
        let from_jwk = SigningKey::from_private_jwk(jwk, None).unwrap();
        assert_eq!(from_jwk.kid(), from_pem.kid(), "{alg}");
        assert_eq!(
            from_jwk.alg(),
            *alg,
            "the algorithm defaults from the key type"
        );
        assert_eq!(from_jwk.public_jwk(), from_pem.public_jwk(), "{alg}");
        same_key(from_jwk, SigningKey::from_pem(pem_text, None).unwrap()).await;
        same_key(
            SigningKey::from_pem(pem_text, None).unwrap(),
            SigningKey::from_private_jwk(jwk, None).unwrap(),
        )
        .await;
    }
    let pss = SigningKey::from_private_jwk(&cases[0].1, Some(Algorithm::PS256)).unwrap();
    assert_eq!(pss.alg(), Algorithm::PS256);
    same_key(
        pss,
        SigningKey::from_pem(RSA2048_PKCS1, Some(Algorithm::PS256)).unwrap(),
    )
    .await;

    // The same through the key-file layout.
    let set = parse_key_files(
        &files(&[
            ("rsa.jwk", jwk_file(&cases[0].1)),
            ("ec.jwk", jwk_file(&cases[1].1)),
            ("ed.jwk", jwk_file(&cases[2].1)),
        ]),
        "keys",
    )
    .unwrap();
    let mut loaded: Vec<(String, Algorithm)> = set
        .signing
        .iter()
        .map(|key| (key.kid().to_owned(), key.alg()))
        .collect();
    loaded.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected: Vec<(String, Algorithm)> = cases
        .iter()
        .map(|(pem_text, _, alg)| {
            (
                SigningKey::from_pem(pem_text, None)
                    .unwrap()
                    .kid()
                    .to_owned(),
                *alg,
            )
        })
        .collect();
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(loaded, expected);
    assert!(set.secrets.is_empty());
    for key in &set.signing {
        assert_eq!(
            (key.created(), key.not_before(), key.expires()),
            (Timestamp(0), Timestamp(0), None)
        );
    }
}

#[test]
fn a_jwks_kid_alg_iat_nbf_and_exp_members_are_honoured() {
    let mut rsa = rsa_jwk();
    let members = json!({
        "kid": "migrated-2024", "alg": "PS256", "iat": 100, "nbf": 200, "exp": 300,
        "use": "sig", "key_ops": ["sign"],
    });
    for (name, value) in members.as_object().unwrap() {
        rsa[name] = value.clone();
    }
    let mut ec = ec_jwk();
    ec["alg"] = json!("ES256");
    ec["iat"] = json!(1_767_139_200u64);
    let set = parse_key_files(
        &files(&[("a.jwk", jwk_file(&rsa)), ("b.jwk", jwk_file(&ec))]),
        "keys",
    )
    .unwrap();
    let key = &set.signing[0];
    assert_eq!(key.kid(), "migrated-2024");
    assert_eq!(key.alg(), Algorithm::PS256);
    assert_eq!(key.created(), Timestamp(100));
    assert_eq!(key.not_before(), Timestamp(200));
    assert_eq!(key.expires(), Some(Timestamp(300)));
    let public = key.public_jwk();
    assert_eq!(public["kid"], "migrated-2024");
    assert_eq!(public["alg"], "PS256");
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(public.get(private).is_none(), "{private} is not published");
    }
    assert_eq!(set.signing[1].alg(), Algorithm::ES256);
    assert_eq!(set.signing[1].created(), Timestamp(1_767_139_200));
    assert_eq!(set.signing[1].not_before(), Timestamp(0));
}

#[test]
fn a_jwk_missing_d_or_with_a_bad_member_fails_naming_the_file() {
    let (_, ed) = ed25519_pem_and_jwk();
    let without = |jwk: &Value, member: &str| {
        let mut jwk = jwk.clone();
        jwk.as_object_mut().unwrap().remove(member);
        jwk
    };
    let with = |jwk: &Value, member: &str, value: Value| {
        let mut jwk = jwk.clone();
        jwk[member] = value;
        jwk
    };
    let load =
        |jwk: &Value| parse_key_files(&files(&[("bad.jwk", jwk_file(jwk))]), "keys").unwrap_err();
    for (jwk, member) in [
        (without(&ec_jwk(), "d"), "d"),
        (without(&ed, "d"), "d"),
        (without(&rsa_jwk(), "d"), "d"),
        (without(&rsa_jwk(), "qi"), "qi"),
        (without(&rsa_jwk(), "dp"), "dp"),
        (with(&rsa_jwk(), "p", json!("not base64url!")), "p"),
        (with(&ec_jwk(), "x", json!(42)), "x"),
        (with(&ed, "d", json!("@@@@")), "d"),
    ] {
        let error = load(&jwk);
        assert!(
            matches!(key_error(&error, "keys/bad.jwk"), KeyError::JwkMember(name) if *name == member),
            "{member}: {error:?}"
        );
    }

    // Members that decode but do not make a key.
    let other_ec = SigningKey::generate(Algorithm::ES256).unwrap().0;
    let mismatched_point = with(&ec_jwk(), "x", other_ec.public_jwk()["x"].clone());
    let short_d = with(&ec_jwk(), "d", json!(b64(&[1; 16])));
    let mut wrong_prime = rsa_jwk();
    wrong_prime["p"] = rsa_jwk()["q"].clone();
    for jwk in [mismatched_point, short_d, wrong_prime] {
        let error = load(&jwk);
        assert!(
            matches!(key_error(&error, "keys/bad.jwk"), KeyError::Rejected { .. }),
            "{jwk}: {error:?}"
        );
    }
    for jwk in [
        with(&ec_jwk(), "crv", json!("P-384")),
        with(&ed, "crv", json!("X25519")),
        with(&ec_jwk(), "kty", json!("EC-HSM")),
    ] {
        let error = load(&jwk);
        assert!(
            matches!(
                key_error(&error, "keys/bad.jwk"),
                KeyError::UnsupportedKeyType
            ),
            "{jwk}: {error:?}"
        );
    }
    let error = load(&with(&rsa_jwk(), "alg", json!("ES256")));
    assert!(matches!(
        key_error(&error, "keys/bad.jwk"),
        KeyError::Mismatch { .. }
    ));

    // Not a key at all, or metadata that does not parse: named too.
    for contents in [
        b"not json".to_vec(),
        jwk_file(&json!(["RSA"])),
        jwk_file(&without(&ec_jwk(), "kty")),
        jwk_file(&with(&ec_jwk(), "alg", json!("HS256"))),
        jwk_file(&with(&ec_jwk(), "iat", json!(-1))),
        jwk_file(&with(&ec_jwk(), "exp", json!("tomorrow"))),
    ] {
        let error = parse_key_files(&files(&[("bad.jwk", contents.clone())]), "keys").unwrap_err();
        assert!(
            matches!(&error, KeySourceError::InvalidMetadata { path, .. } if path == "keys/bad.jwk"),
            "{}: {error:?}",
            String::from_utf8_lossy(&contents)
        );
    }
}

#[test]
fn an_oct_jwk_is_a_session_secret() {
    let secret_file = |k: &[u8], extra: Value| {
        let mut jwk = json!({ "kty": "oct", "k": b64(k) });
        for (name, value) in extra.as_object().unwrap() {
            jwk[name] = value.clone();
        }
        jwk_file(&jwk)
    };
    let set = parse_key_files(
        &files(&[
            (
                "a.jwk",
                secret_file(
                    &[1; 32],
                    json!({ "kid": "session-7", "iat": 100, "nbf": 200 }),
                ),
            ),
            ("session-8.jwk", secret_file(&[2; 64], json!({}))),
        ]),
        "keys",
    )
    .unwrap();
    assert!(set.signing.is_empty());
    assert_eq!(set.secrets.len(), 2);
    let (named, unnamed) = (&set.secrets[0], &set.secrets[1]);
    assert_eq!(named.id(), "session-7");
    assert_eq!(
        (named.created(), named.not_before()),
        (Timestamp(100), Timestamp(200))
    );
    assert_eq!(
        unnamed.id(),
        "session-8",
        "the file name when there is no kid"
    );
    assert_eq!(
        (unnamed.created(), unnamed.not_before()),
        (Timestamp(0), Timestamp(0))
    );

    // What `sigil keys` writes reads back as the same secret: it opens what the original sealed.
    let original = SessionSecret::generate("session-9")
        .unwrap()
        .with_created(Timestamp(5));
    let read_back = parse_key_files(
        &files(&[("session-9.jwk", session_secret_jwk(&original))]),
        "keys",
    )
    .unwrap();
    assert_eq!(read_back.secrets[0].id(), "session-9");
    assert_eq!(read_back.secrets[0].created(), Timestamp(5));
    let ring = |secret: SessionSecret| {
        KeyRing::new(
            KeySet::new(Vec::new(), vec![secret]),
            Algorithm::ES256,
            RotationPolicy::default(),
        )
        .unwrap()
    };
    let sealed = ring(original)
        .seal_at("session", b"v", Timestamp::now())
        .unwrap();
    let reader = ring(read_back.secrets.into_iter().next().unwrap());
    assert_eq!(reader.open("session", &sealed).unwrap(), b"v");
}

#[test]
fn an_oct_jwk_under_32_bytes_is_refused() {
    for (k, len) in [(b64(&[1; 31]), 31), (String::new(), 0)] {
        let jwk = json!({ "kty": "oct", "k": k });
        let error = parse_key_files(&files(&[("short.jwk", jwk_file(&jwk))]), "keys").unwrap_err();
        assert!(
            matches!(key_error(&error, "keys/short.jwk"), KeyError::ShortSecret(found) if *found == len),
            "{error:?}"
        );
    }
    let missing = jwk_file(&json!({ "kty": "oct" }));
    let error = parse_key_files(&files(&[("none.jwk", missing)]), "keys").unwrap_err();
    assert!(matches!(
        key_error(&error, "keys/none.jwk"),
        KeyError::ShortSecret(0)
    ));
    let garbled = jwk_file(&json!({ "kty": "oct", "k": "***" }));
    let error = parse_key_files(&files(&[("garbled.jwk", garbled)]), "keys").unwrap_err();
    assert!(error.to_string().contains("keys/garbled.jwk"), "{error}");
}

#[tokio::test]
async fn hidden_and_unrelated_files_are_ignored() {
    let (_, pem_text) = SigningKey::generate(Algorithm::ES256).unwrap();
    let garbage = b"garbage".to_vec();
    let listing = files(&[
        ("k.pem", pem_text.clone().into_bytes()),
        (".x.pem", garbage.clone()),
        (".x.json", garbage.clone()),
        (".k.jwk", garbage.clone()),
        ("..data", garbage.clone()),
        (".k.pem.1234.tmp", garbage.clone()),
        ("k.pem.bak", garbage.clone()),
        ("README.md", garbage.clone()),
    ]);
    let set = parse_key_files(&listing, "keys").unwrap();
    assert_eq!(set.signing.len(), 1);
    assert!(set.secrets.is_empty());

    // The same on disk.
    let dir = tempfile::tempdir().unwrap();
    for (name, contents) in &listing {
        std::fs::write(dir.path().join(name), contents).unwrap();
    }
    let source = FileKeySource::new(dir.path());
    let set = source.load().await.unwrap();
    assert_eq!(set.signing.len(), 1);
    let names: Vec<String> = source.read_files().unwrap().into_keys().collect();
    assert_eq!(names, ["k.pem"]);
}

#[tokio::test]
async fn the_file_source_reads_jwk_files_and_needs_a_signing_key() {
    let dir = tempfile::tempdir().unwrap();
    let source = FileKeySource::new(dir.path());
    let secret = SessionSecret::generate("session-1").unwrap();
    std::fs::write(
        dir.path().join("session-1.jwk"),
        session_secret_jwk(&secret),
    )
    .unwrap();
    assert!(
        matches!(source.load().await, Err(KeySourceError::Empty(_))),
        "a secret alone is not enough to sign"
    );
    std::fs::write(dir.path().join("ec.jwk"), jwk_file(&ec_jwk())).unwrap();
    let set = source.load().await.unwrap();
    assert_eq!(set.signing.len(), 1);
    assert_eq!(
        set.signing[0].kid(),
        SigningKey::from_pem(P256_SEC1_WITH_PARAMS, None)
            .unwrap()
            .kid()
    );
    assert_eq!(set.secrets.len(), 1);
    assert_eq!(set.secrets[0].id(), "session-1");
}
