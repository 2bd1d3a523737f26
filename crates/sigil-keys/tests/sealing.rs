//! Sealing session cookies and CSRF tokens with the shared session secret: any pod opens what
//! any other sealed, a value opens only for its purpose and only untampered, and a rotated
//! secret keeps opening old values for the retention period, then stops.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::policy;
use sigil_core::time::Timestamp;
use sigil_keys::key_files::session_secret_jwk;
use sigil_keys::{
    Algorithm, KeyFiles, KeyRing, KeySet, SealError, SessionSecret, SigningKey, parse_key_files,
};

const T0: u64 = 1_000_000;

fn ring_at(secrets: Vec<SessionSecret>, now: u64) -> KeyRing {
    KeyRing::build(
        KeySet::new(Vec::new(), secrets),
        Algorithm::ES256,
        policy(),
        Timestamp(now),
        None,
    )
    .unwrap()
}

fn secret(id: &str, created: u64) -> SessionSecret {
    SessionSecret::generate(id)
        .unwrap()
        .with_created(Timestamp(created))
}

/// The id of the secret that sealed `sealed` (the part before the dot).
fn sealed_by(sealed: &str) -> String {
    let (id, _) = sealed.split_once('.').unwrap();
    String::from_utf8(URL_SAFE_NO_PAD.decode(id).unwrap()).unwrap()
}

#[test]
fn a_value_sealed_on_one_pod_opens_on_another_loading_the_same_secret_files() {
    let files = KeyFiles::from([(
        "session-1.jwk".to_owned(),
        session_secret_jwk(&SessionSecret::generate("session-1").unwrap()),
    )]);
    let pod = |name: &str| {
        KeyRing::new(
            parse_key_files(&files, name).unwrap(),
            Algorithm::ES256,
            policy(),
        )
        .unwrap()
    };
    let (one, two) = (pod("pod-1"), pod("pod-2"));
    for plaintext in [&b""[..], b"user=alice; auth_time=1700000000", &[0xff; 4096]] {
        let sealed = one.seal_at("session", plaintext, Timestamp::now()).unwrap();
        assert_eq!(two.open("session", &sealed).unwrap(), plaintext);
        assert_eq!(one.open("session", &sealed).unwrap(), plaintext);
        assert!(
            !sealed.contains(&URL_SAFE_NO_PAD.encode(b"alice")),
            "sealed, not encoded"
        );
    }
    // A fresh nonce every time: the same value seals differently.
    let first = one.seal_at("csrf", b"same", Timestamp::now()).unwrap();
    let second = one.seal_at("csrf", b"same", Timestamp::now()).unwrap();
    assert_ne!(first, second);
    assert_eq!(sealed_by(&first), "session-1");
}

#[test]
fn a_value_sealed_for_one_purpose_does_not_open_as_another() {
    let ring = ring_at(vec![secret("s1", 0)], T0);
    let sealed = ring
        .seal_at("session", b"user=alice", Timestamp(T0))
        .unwrap();
    for other in ["csrf", "Session", "session ", ""] {
        assert_eq!(
            ring.open(other, &sealed),
            Err(SealError::Invalid),
            "{other:?}"
        );
    }
    assert_eq!(ring.open("session", &sealed).unwrap(), b"user=alice");
}

#[test]
fn tampered_and_truncated_values_do_not_open() {
    let ring = ring_at(vec![secret("s1", 0)], T0);
    let sealed = ring
        .seal_at("session", b"user=alice", Timestamp(T0))
        .unwrap();
    let (id, body) = sealed.split_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(body).unwrap();
    let flip = |index: usize| {
        let mut bytes = bytes.clone();
        bytes[index] ^= 1;
        format!("{id}.{}", URL_SAFE_NO_PAD.encode(bytes))
    };
    let mut tampered = vec![
        flip(0),               // the nonce
        flip(12),              // the ciphertext
        flip(bytes.len() - 1), // the tag
        sealed[..sealed.len() - 1].to_owned(),
        sealed[..sealed.len() / 2].to_owned(),
        format!("{id}."),
        id.to_owned(),
        format!(".{body}"),
        body.to_owned(),
        format!("{sealed}="),
        format!("{sealed}."),
        format!("{id}.{body}{body}"),
        String::new(),
        ".".to_owned(),
        format!("{id}.!!!!"),
        format!("***.{body}"),
    ];
    // Only the 12-byte nonce, and the nonce with a short tag.
    bytes.truncate(12);
    tampered.push(format!("{id}.{}", URL_SAFE_NO_PAD.encode(&bytes)));
    bytes.extend([0; 8]);
    tampered.push(format!("{id}.{}", URL_SAFE_NO_PAD.encode(&bytes)));
    for value in tampered {
        assert_eq!(
            ring.open("session", &value),
            Err(SealError::Invalid),
            "{value:?}"
        );
    }
}

#[test]
fn after_a_secret_rotation_old_values_open_until_the_old_secret_is_deleted() {
    let s1 = secret("s1", 0);
    let s2 = secret("s2", T0);
    let ring = ring_at(vec![s1.clone()], T0);
    let old = ring.seal_at("session", b"old", Timestamp(T0)).unwrap();
    assert_eq!(sealed_by(&old), "s1");

    // s2 is added, created now: accepted at once, sealing only after the propagation period.
    let ring = ring_at(vec![s1.clone(), s2.clone()], T0);
    assert_eq!(
        sealed_by(&ring.seal_at("session", b"x", Timestamp(T0 + 99)).unwrap()),
        "s1"
    );
    let new = ring
        .seal_at("session", b"new", Timestamp(T0 + 100))
        .unwrap();
    assert_eq!(sealed_by(&new), "s2");
    assert_eq!(
        ring.open("session", &new).unwrap(),
        b"new",
        "a pod still sealing with s1 opens what another sealed with s2"
    );

    let ring = ring_at(vec![s1.clone(), s2.clone()], T0 + 149);
    assert_eq!(ring.open("session", &old).unwrap(), b"old");
    // Past retention s1 may be deleted; it opens while the source still holds it, not after.
    let ring = ring_at(vec![s1, s2.clone()], T0 + 150);
    assert_eq!(ring.open("session", &old).unwrap(), b"old");
    let ring = ring_at(vec![s2], T0 + 150);
    assert_eq!(ring.open("session", &old), Err(SealError::Invalid));
    assert_eq!(ring.open("session", &new).unwrap(), b"new");
}

#[test]
fn a_secret_removed_from_the_source_opens_for_the_retention_period_only() {
    let (s1, s2) = (secret("s1", 0), secret("s2", 10));
    let ring = ring_at(vec![s1.clone(), s2], T0);
    let sealed = ring.seal_at("session", b"v", Timestamp(T0)).unwrap();
    assert_eq!(sealed_by(&sealed), "s2");

    let ring = ring
        .rebuild(KeySet::new(Vec::new(), vec![s1.clone()]), Timestamp(T0))
        .unwrap();
    assert_eq!(ring.open("session", &sealed).unwrap(), b"v");
    assert_eq!(
        sealed_by(&ring.seal_at("session", b"v", Timestamp(T0)).unwrap()),
        "s1",
        "a removed secret never seals"
    );
    let ring = ring
        .rebuild(
            KeySet::new(Vec::new(), vec![s1.clone()]),
            Timestamp(T0 + 49),
        )
        .unwrap();
    assert_eq!(ring.open("session", &sealed).unwrap(), b"v");
    let ring = ring
        .rebuild(KeySet::new(Vec::new(), vec![s1]), Timestamp(T0 + 50))
        .unwrap();
    assert_eq!(ring.open("session", &sealed), Err(SealError::Invalid));
}

#[test]
fn a_value_sealed_with_an_unknown_secret_does_not_open() {
    let ours = ring_at(vec![secret("s1", 0)], T0);
    let theirs = ring_at(vec![secret("s9", 0)], T0);
    let sealed = theirs.seal_at("session", b"v", Timestamp(T0)).unwrap();
    assert_eq!(ours.open("session", &sealed), Err(SealError::Invalid));

    // Another deployment's secret under our secret's id.
    let impostor = ring_at(vec![secret("s1", 0)], T0);
    let sealed = impostor.seal_at("session", b"v", Timestamp(T0)).unwrap();
    assert_eq!(sealed_by(&sealed), "s1");
    assert_eq!(ours.open("session", &sealed), Err(SealError::Invalid));
}

#[test]
fn a_ring_without_a_session_secret_cannot_seal() {
    let (key, _) = SigningKey::generate(Algorithm::ES256).unwrap();
    let ring = KeyRing::new(
        KeySet::new(vec![key], Vec::new()),
        Algorithm::ES256,
        policy(),
    )
    .unwrap();
    assert_eq!(
        ring.seal_at("session", b"v", Timestamp::now()),
        Err(SealError::NoSecret)
    );
    let sealed = ring_at(vec![secret("s1", 0)], T0)
        .seal_at("session", b"v", Timestamp(T0))
        .unwrap();
    assert_eq!(ring.open("session", &sealed), Err(SealError::Invalid));

    let empty = KeyRing::empty(Algorithm::ES256, policy());
    assert_eq!(
        empty.seal_at("session", b"v", Timestamp(T0)),
        Err(SealError::NoSecret)
    );
}

#[test]
fn session_secrets_shorter_than_256_bits_are_refused() {
    assert!(matches!(
        SessionSecret::new("short", vec![7; 31]),
        Err(sigil_keys::KeyError::ShortSecret(31))
    ));
    assert!(SessionSecret::new("ok", vec![7; 32]).is_ok());
}
