//! Key parsing (PKCS#8, PKCS#1, SEC1, and what is refused) and the file and dev sources.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

use sigil_core::signing::TokenSigner as _;
use sigil_core::time::Timestamp;
use sigil_keys::{
    Algorithm, DevKeySource, FileKeySource, KeyError, KeyRing, KeySet, KeySource, KeySourceError,
    RotationPolicy, SharedKeyRing, SigningAlgorithms, SigningKey,
};
use std::error::Error as _;
use std::time::Duration;

const RSA2048_PKCS1: &str = include_str!("fixtures/rsa2048-pkcs1.pem");
const P256_SEC1_WITH_PARAMS: &str = include_str!("fixtures/p256-sec1-with-params.pem");
const RSA1024_PKCS1: &str = include_str!("fixtures/rsa1024-pkcs1.pem");
const RSA1024_PKCS8: &str = include_str!("fixtures/rsa1024-pkcs8.pem");
const P384_PKCS8: &str = include_str!("fixtures/p384-pkcs8.pem");

/// No propagation delay: a key signs from its `not_before`.
fn immediate() -> RotationPolicy {
    RotationPolicy {
        propagation: Duration::ZERO,
        rotation: Duration::from_secs(90 * 24 * 3600),
        retention: Duration::from_secs(24 * 3600),
    }
}

fn ring_of(keys: KeySet, alg: Algorithm) -> KeyRing {
    KeyRing::new(keys, alg, immediate()).unwrap()
}

/// Signs with `key` and checks the token with an independent library against the JWKS.
async fn signs_verifiably(key: SigningKey) {
    let alg = key.alg();
    let ring = ring_of(KeySet::new(vec![key], Vec::new()), alg);
    let token = ring.sign("at+jwt", br#"{"sub":"s"}"#).await.unwrap();
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_slice(&ring.jwks_json()).unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    jsonwebtoken::decode::<serde_json::Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_jwk(&jwks.keys[0]).unwrap(),
        &validation,
    )
    .unwrap_or_else(|e| panic!("{alg}: {e}"));
    assert!(ring.verify(&token).is_ok());
}

#[tokio::test]
async fn pkcs8_of_every_type_parses_with_the_default_or_the_given_algorithm() {
    for alg in Algorithm::ALL {
        let (generated, pem) = SigningKey::generate(alg).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let default_alg = match alg {
            Algorithm::PS256 => Algorithm::RS256,
            other => other,
        };
        let parsed = SigningKey::from_pem(&pem, None).unwrap();
        assert_eq!(parsed.alg(), default_alg);
        assert_eq!(
            parsed.kid(),
            generated.kid(),
            "the kid depends on the key only"
        );
        let parsed = SigningKey::from_pem(&pem, Some(alg)).unwrap();
        assert_eq!(parsed.alg(), alg);
        signs_verifiably(parsed).await;
    }
}

#[tokio::test]
async fn pkcs1_rsa_and_sec1_p256_written_by_another_implementation_parse_and_sign() {
    let rsa = SigningKey::from_pem(RSA2048_PKCS1, None).unwrap();
    assert_eq!(rsa.alg(), Algorithm::RS256);
    signs_verifiably(rsa).await;
    let pss = SigningKey::from_pem(RSA2048_PKCS1, Some(Algorithm::PS256)).unwrap();
    assert_eq!(pss.alg(), Algorithm::PS256);
    signs_verifiably(pss).await;
    // With the `EC PARAMETERS` block that `ecparam -genkey` writes first.
    let ec = SigningKey::from_pem(P256_SEC1_WITH_PARAMS, None).unwrap();
    assert_eq!(ec.alg(), Algorithm::ES256);
    signs_verifiably(ec).await;
}

#[test]
fn rsa_keys_under_2048_bits_are_refused() {
    for weak in [RSA1024_PKCS1, RSA1024_PKCS8] {
        for alg in [None, Some(Algorithm::RS256), Some(Algorithm::PS256)] {
            let error = SigningKey::from_pem(weak, alg).unwrap_err();
            assert!(matches!(error, KeyError::WeakRsaKey), "{error:?}");
        }
    }
}

#[test]
fn unsupported_mismatched_and_garbage_keys_are_refused() {
    assert!(matches!(
        SigningKey::from_pem(P384_PKCS8, None),
        Err(KeyError::Rejected {
            encoding: "PKCS#8 P-256",
            ..
        })
    ));
    let (_, ec) = SigningKey::generate(Algorithm::ES256).unwrap();
    for alg in [Algorithm::RS256, Algorithm::PS256, Algorithm::EdDSA] {
        assert!(matches!(
            SigningKey::from_pem(&ec, Some(alg)),
            Err(KeyError::Mismatch {
                key_type: "a P-256",
                ..
            })
        ));
    }
    assert!(matches!(
        SigningKey::from_pem(RSA2048_PKCS1, Some(Algorithm::ES256)),
        Err(KeyError::Mismatch {
            key_type: "an RSA",
            ..
        })
    ));
    assert!(matches!(
        SigningKey::from_pem("not pem", None),
        Err(KeyError::NotOneKey(0))
    ));
    assert!(matches!(
        SigningKey::from_pem(
            "-----BEGIN PRIVATE KEY-----\n@@@@\n-----END PRIVATE KEY-----\n",
            None
        ),
        Err(KeyError::NotPem(_))
    ));
    let junk_der = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    assert!(matches!(
        SigningKey::from_pem(junk_der, None),
        Err(KeyError::UnsupportedKeyType)
    ));
    let junk_pkcs1 = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    assert!(matches!(
        SigningKey::from_pem(junk_pkcs1, None),
        Err(KeyError::Rejected {
            encoding: "PKCS#1 RSA",
            ..
        })
    ));
    let certificate = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert!(matches!(
        SigningKey::from_pem(&format!("{certificate}{ec}"), None),
        Err(KeyError::UnsupportedLabel(label)) if label == "CERTIFICATE"
    ));
    let encrypted =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert!(matches!(
        SigningKey::from_pem(encrypted, None),
        Err(KeyError::UnsupportedLabel(_))
    ));
    let (_, other) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    assert!(matches!(
        SigningKey::from_pem(&format!("{ec}{other}"), None),
        Err(KeyError::NotOneKey(2))
    ));
}

/// `sigil dev` with ES256 access tokens and clients that sign users in: a key per algorithm,
/// once, and a ring that signs with both.
#[tokio::test]
async fn the_dev_source_generates_a_key_for_each_configured_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    let algorithms = SigningAlgorithms::new(Algorithm::ES256, [Algorithm::RS256]);
    let source = DevKeySource::new(dir.path(), algorithms.clone());
    let set = source.load().await.unwrap();
    let mut algs: Vec<Algorithm> = set.signing.iter().map(SigningKey::alg).collect();
    algs.sort();
    assert_eq!(algs, [Algorithm::RS256, Algorithm::ES256]);
    let ring = KeyRing::new(set, algorithms, RotationPolicy::default()).unwrap();
    assert_eq!(ring.missing_algorithm(Timestamp::now()), None);
    let again = source.load().await.unwrap();
    let kids = |set: &KeySet| {
        let mut kids: Vec<String> = set.signing.iter().map(|key| key.kid().to_owned()).collect();
        kids.sort();
        kids
    };
    let mut first: Vec<String> = ring.keys().iter().map(|key| key.kid().to_owned()).collect();
    first.sort();
    assert_eq!(kids(&again), first, "generated once, then reused");
}

#[tokio::test]
async fn the_dev_source_generates_once_and_reuses_the_key_and_secret_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join("keys");
    let first = DevKeySource::new(&keys_dir, Algorithm::PS256)
        .load()
        .await
        .unwrap();
    assert_eq!(first.signing.len(), 1);
    assert_eq!(first.secrets.len(), 1, "a session secret is generated too");
    let before_restart = ring_of(first, Algorithm::PS256);
    let token = before_restart
        .sign("at+jwt", br#"{"sub":"s"}"#)
        .await
        .unwrap();
    let sealed = before_restart
        .seal_at("session", b"user=1", Timestamp::now())
        .unwrap();
    let kid = before_restart.keys()[0].kid().to_owned();

    // A restart: a new source over the same directory.
    let second = DevKeySource::new(&keys_dir, Algorithm::PS256)
        .load()
        .await
        .unwrap();
    assert_eq!(second.signing.len(), 1);
    assert_eq!(second.signing[0].kid(), kid);
    assert_eq!(
        second.signing[0].alg(),
        Algorithm::PS256,
        "the sidecar keeps the algorithm"
    );
    // Valid at once, even under a propagation period: nothing can have cached an older key
    // of a fresh development setup.
    assert_eq!(second.signing[0].not_before(), Timestamp(0));
    assert_eq!(second.signing[0].created(), Timestamp(0));
    assert_eq!(second.secrets.len(), 1);
    let after_restart = KeyRing::new(second, Algorithm::PS256, RotationPolicy::default()).unwrap();
    assert!(!after_restart.signs_with_unpropagated_key(Timestamp::now()));
    assert!(after_restart.verify(&token).is_ok());
    assert_eq!(
        after_restart.open("session", &sealed).unwrap(),
        b"user=1",
        "sessions survive a restart"
    );

    // Asking for another algorithm adds a key and keeps the first (and the secret).
    let both = DevKeySource::new(&keys_dir, Algorithm::ES256)
        .load()
        .await
        .unwrap();
    assert_eq!(both.signing.len(), 2);
    assert_eq!(both.secrets.len(), 1);
    assert!(both.signing.iter().any(|key| key.kid() == kid));

    let mut names: Vec<String> = std::fs::read_dir(&keys_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        5,
        "two keys, their sidecars and the secret, no temporary files: {names:?}"
    );
    assert!(names.contains(&format!("ps256-{kid}.pem")));
    assert!(names.contains(&"session-1.jwk".to_owned()));
    let sidecar: serde_json::Value =
        serde_json::from_slice(&std::fs::read(keys_dir.join(format!("ps256-{kid}.json"))).unwrap())
            .unwrap();
    assert_eq!(sidecar["alg"], "PS256");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&keys_dir), 0o700);
        for name in &names {
            assert_eq!(mode(&keys_dir.join(name)), 0o600, "{name}");
        }
    }
}

#[tokio::test]
async fn the_file_source_reads_keys_and_sidecars() {
    let dir = tempfile::tempdir().unwrap();
    let (ed, ed_pem) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let (rsa, rsa_pem) = SigningKey::generate(Algorithm::RS256).unwrap();
    std::fs::write(dir.path().join("a-ed.pem"), ed_pem).unwrap();
    std::fs::write(dir.path().join("b-rsa.pem"), rsa_pem).unwrap();
    std::fs::write(
        dir.path().join("b-rsa.json"),
        r#"{"alg":"PS256","not_before":77,"created":70,"expires":4000000000,"kid":"legacy"}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("README.txt"), "not a key").unwrap();
    let keys = FileKeySource::new(dir.path()).load().await.unwrap().signing;
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].kid(), ed.kid());
    assert_eq!(keys[0].alg(), Algorithm::EdDSA);
    assert_eq!(
        (keys[0].not_before(), keys[0].created(), keys[0].expires()),
        (Timestamp(0), Timestamp(0), None)
    );
    assert_ne!(rsa.kid(), "legacy");
    assert_eq!(
        keys[1].kid(),
        "legacy",
        "the sidecar's kid replaces the thumbprint"
    );
    assert_eq!(keys[1].public_jwk()["kid"], "legacy");
    assert_eq!(keys[1].alg(), Algorithm::PS256);
    assert_eq!(
        (keys[1].not_before(), keys[1].created(), keys[1].expires()),
        (Timestamp(77), Timestamp(70), Some(Timestamp(4_000_000_000)))
    );
}

#[tokio::test]
async fn created_defaults_to_the_epoch_not_to_not_before() {
    let dir = tempfile::tempdir().unwrap();
    let (_, pem) = SigningKey::generate(Algorithm::RS256).unwrap();
    std::fs::write(dir.path().join("k.pem"), pem).unwrap();
    std::fs::write(dir.path().join("k.json"), r#"{"not_before":10000}"#).unwrap();
    let keys = FileKeySource::new(dir.path()).load().await.unwrap();
    assert_eq!(keys.signing[0].alg(), Algorithm::RS256);
    assert_eq!(keys.signing[0].not_before(), Timestamp(10_000));
    assert_eq!(
        keys.signing[0].created(),
        Timestamp(0),
        "created defaults to 0, not to not_before"
    );
    // So the key signs from its not_before: the propagation counts from the epoch, long past.
    let policy = RotationPolicy {
        propagation: Duration::from_secs(3_600),
        ..immediate()
    };
    let ring = KeyRing::build(keys, Algorithm::RS256, policy, Timestamp(10_000), None).unwrap();
    assert!(!ring.signs_with_unpropagated_key(Timestamp(10_000)));
}

#[tokio::test]
async fn file_source_errors_name_the_file_and_keep_their_cause() {
    let dir = tempfile::tempdir().unwrap();
    let source = FileKeySource::new(dir.path());
    assert!(matches!(source.load().await, Err(KeySourceError::Empty(_))));

    let missing = FileKeySource::new(dir.path().join("missing"));
    let error = missing.load().await.unwrap_err();
    assert!(matches!(error, KeySourceError::Io { .. }));
    assert!(error.to_string().contains("missing"), "{error}");

    std::fs::write(dir.path().join("broken.pem"), "garbage").unwrap();
    let error = source.load().await.unwrap_err();
    assert!(matches!(error, KeySourceError::InvalidKey { .. }));
    assert!(error.to_string().contains("broken.pem"), "{error}");
    let cause = error.source().unwrap().to_string();
    assert!(cause.contains("private key"), "{cause}");
    assert!(
        !error.to_string().contains(&cause),
        "the cause is not repeated: {error}"
    );
    std::fs::remove_file(dir.path().join("broken.pem")).unwrap();

    std::fs::create_dir(dir.path().join("unreadable.pem")).unwrap();
    let error = source.load().await.unwrap_err();
    assert!(matches!(error, KeySourceError::Io { .. }));
    assert!(error.to_string().contains("unreadable.pem"), "{error}");
    std::fs::remove_dir(dir.path().join("unreadable.pem")).unwrap();

    std::fs::write(dir.path().join("weak.pem"), RSA1024_PKCS1).unwrap();
    let error = source.load().await.unwrap_err();
    assert!(error.to_string().contains("weak.pem"), "{error}");
    assert!(matches!(
        error.source().unwrap().downcast_ref(),
        Some(KeyError::WeakRsaKey)
    ));
    std::fs::remove_file(dir.path().join("weak.pem")).unwrap();

    let (_, pem) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    std::fs::write(dir.path().join("k.pem"), pem).unwrap();
    for sidecar in [
        r#"{"alg":"HS256"}"#,
        r#"{"alg":"RS256"}"#,
        r#"{"algorithm":"EdDSA"}"#,
        r#"{"not_before":-1}"#,
        "not json",
    ] {
        std::fs::write(dir.path().join("k.json"), sidecar).unwrap();
        let error = source.load().await.unwrap_err();
        let shown = error.to_string();
        let names_the_file = shown.contains("k.json") || shown.contains("k.pem");
        assert!(names_the_file, "{sidecar}: {shown}");
    }
}

#[tokio::test]
async fn a_source_describes_itself_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let source = FileKeySource::new(dir.path());
    let error = SharedKeyRing::load(&source, Algorithm::RS256, RotationPolicy::default())
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains(&dir.path().display().to_string()),
        "{error}"
    );
    assert!(matches!(
        error.source().unwrap().downcast_ref(),
        Some(KeySourceError::Empty(_))
    ));
}
