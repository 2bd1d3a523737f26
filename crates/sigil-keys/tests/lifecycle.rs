//! Key rotation end to end: a new key is published before it signs, takes over after the
//! propagation period, and the old one stays published for the retention period, then leaves
//! the JWKS. Keys removed from the source early, and expired keys, never sign again but keep
//! verifying for the retention period. Times are explicit (`KeyRing::build`/`rebuild` with
//! `now`), so nothing sleeps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

mod common;

use async_trait::async_trait;
use common::{jwks_kids, policy};
use sigil_core::signing::{TokenSigner, VerifyError};
use sigil_core::time::Timestamp;
use sigil_keys::{
    Algorithm, KeyRing, KeySet, KeySource, KeySourceError, KeyState, RotationPolicy, SharedKeyRing,
    SigningKey,
};
use std::sync::Mutex;
use std::time::Duration;

const ALG: Algorithm = Algorithm::ES256;
const T0: u64 = 1_000_000;

/// An in-memory source of PEM keys with their `created` times, changed by the test.
#[derive(Default)]
struct TestSource(Mutex<Vec<(String, u64)>>);

impl TestSource {
    fn set(&self, keys: &[(&str, u64)]) {
        *self.0.lock().unwrap() = keys
            .iter()
            .map(|(pem, created)| ((*pem).to_owned(), *created))
            .collect();
    }
}

#[async_trait]
impl KeySource for TestSource {
    async fn load(&self) -> Result<KeySet, KeySourceError> {
        let signing = self
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|(pem, created)| created_key(pem, *created))
            .collect();
        Ok(KeySet::new(signing, Vec::new()))
    }

    fn describe(&self) -> String {
        "test source".to_owned()
    }
}

fn generate() -> (String, String) {
    let (key, pem) = SigningKey::generate(ALG).unwrap();
    (key.kid().to_owned(), pem)
}

/// The key in `pem`, created at `created`.
fn created_key(pem: &str, created: u64) -> SigningKey {
    SigningKey::from_pem(pem, None)
        .unwrap()
        .with_created(Timestamp(created))
}

/// Keys from PEMs, each with its `created` time.
fn set(keys: &[(&str, u64)]) -> KeySet {
    let signing = keys
        .iter()
        .map(|(pem, created)| created_key(pem, *created))
        .collect();
    KeySet::new(signing, Vec::new())
}

fn published(ring: &KeyRing) -> Vec<String> {
    let kids = jwks_kids(&ring.jwks_json());
    assert_eq!(
        kids,
        {
            let mut from_keys: Vec<String> =
                ring.keys().iter().map(|key| key.kid().to_owned()).collect();
            from_keys.sort();
            from_keys
        },
        "the JWKS and keys() agree"
    );
    kids
}

fn kids(kids: &[&String]) -> Vec<String> {
    let mut kids: Vec<String> = kids.iter().map(|kid| (*kid).clone()).collect();
    kids.sort();
    kids
}

fn active(ring: &KeyRing, now: u64) -> String {
    ring.active(ALG, Timestamp(now)).unwrap().kid().to_owned()
}

fn state(ring: &KeyRing, kid: &str, now: u64) -> KeyState {
    ring.states(Timestamp(now))
        .into_iter()
        .find(|(key, _)| key.kid() == kid)
        .map(|(_, state)| state)
        .unwrap()
}

async fn sign_at(ring: &KeyRing, now: u64) -> String {
    ring.sign_at("at+jwt", br#"{"sub":"s"}"#, Timestamp(now))
        .await
        .unwrap()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// What a validator that cached `jwks` would say of `token`.
fn validator_accepts(jwks: &[u8], token: &str) -> bool {
    let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_slice(jwks).unwrap();
    let Some(jwk) = jwks.find(&kid_of(token)) else {
        return false;
    };
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation).is_ok()
}

#[tokio::test]
async fn a_rotation_publishes_the_new_key_first_switches_after_propagation_and_drops_the_old_after_retention()
 {
    let (a, a_pem) = generate();
    let (b, b_pem) = generate();
    let source = TestSource::default();
    source.set(&[(&a_pem, 0)]);
    let ring = KeyRing::build(
        source.load().await.unwrap(),
        ALG,
        policy(),
        Timestamp(T0),
        None,
    )
    .unwrap();
    assert_eq!(active(&ring, T0), a);
    assert_eq!(published(&ring), kids(&[&a]));
    let token_a = sign_at(&ring, T0).await;

    // `sigil keys rotate`: B is added with created = now. Published at once, A still signs.
    source.set(&[(&a_pem, 0), (&b_pem, T0)]);
    let ring = ring
        .rebuild(source.load().await.unwrap(), Timestamp(T0))
        .unwrap();
    assert_eq!(published(&ring), kids(&[&a, &b]));
    assert_eq!(state(&ring, &a, T0), KeyState::Active);
    assert_eq!(
        state(&ring, &b, T0),
        KeyState::Pending {
            signs_from: Timestamp(T0 + 100)
        }
    );
    assert_eq!(kid_of(&sign_at(&ring, T0).await), a);
    assert_eq!(kid_of(&sign_at(&ring, T0 + 99).await), a);
    assert!(!ring.signs_with_unpropagated_key(Timestamp(T0)));
    // A validator fetching the JWKS now ...
    let cached_jwks = ring.jwks_json();

    // After the propagation period B signs; A is retired but still verifies.
    let ring = ring
        .rebuild(source.load().await.unwrap(), Timestamp(T0 + 100))
        .unwrap();
    let token_b = sign_at(&ring, T0 + 100).await;
    assert_eq!(kid_of(&token_b), b);
    assert_eq!(active(&ring, T0 + 100), b);
    assert_eq!(
        state(&ring, &a, T0 + 100),
        KeyState::Retired {
            since: Timestamp(T0 + 100),
            retention_ends: Timestamp(T0 + 150),
            held_by_source: true,
        }
    );
    assert_eq!(published(&ring), kids(&[&a, &b]));
    assert!(ring.verify(&token_a).is_ok());
    assert!(ring.verify(&token_b).is_ok());
    // ... already has the key that signs now.
    assert!(validator_accepts(&cached_jwks, &token_b));

    // Until the end of the retention period.
    let ring = ring
        .rebuild(source.load().await.unwrap(), Timestamp(T0 + 149))
        .unwrap();
    assert_eq!(published(&ring), kids(&[&a, &b]));
    assert!(ring.verify(&token_a).is_ok());
    assert!(validator_accepts(&ring.jwks_json(), &token_a));

    // Past retention A may be deleted, but stays published while the source holds it.
    let ring = ring
        .rebuild(source.load().await.unwrap(), Timestamp(T0 + 150))
        .unwrap();
    assert!(state(&ring, &a, T0 + 150).past_retention(Timestamp(T0 + 150)));
    assert_eq!(published(&ring), kids(&[&a, &b]));
    assert_eq!(kid_of(&sign_at(&ring, T0 + 150).await), b);

    // Deleting A from the source past its retention withdraws it at once.
    source.set(&[(&b_pem, T0)]);
    let ring = ring
        .rebuild(source.load().await.unwrap(), Timestamp(T0 + 151))
        .unwrap();
    assert_eq!(published(&ring), kids(&[&b]));
    assert_eq!(ring.verify(&token_a).unwrap_err(), VerifyError::UnknownKey);
    assert!(!validator_accepts(&ring.jwks_json(), &token_a));
    assert!(ring.verify(&token_b).is_ok());
    let ring = ring
        .rebuild(source.load().await.unwrap(), Timestamp(T0 + 200))
        .unwrap();
    assert_eq!(published(&ring), kids(&[&b]));
}

/// The same rotation through a [`SharedKeyRing`] reloading a source on the real clock. Instead
/// of waiting for time to pass, the test moves B's `created` back by the time that would have
/// passed: the lifecycle depends only on the keys' times and now.
#[tokio::test]
async fn a_rotation_through_a_shared_ring_reloading_its_source() {
    const HOUR: u64 = 3_600;
    let policy = RotationPolicy {
        propagation: Duration::from_secs(HOUR),
        rotation: Duration::from_secs(10 * HOUR),
        retention: Duration::from_secs(HOUR),
    };
    let now = Timestamp::now().as_secs();
    let (a, a_pem) = generate();
    let (b, b_pem) = generate();
    let source = TestSource::default();
    source.set(&[(&a_pem, 0)]);
    let shared = SharedKeyRing::load(&source, ALG, policy).await.unwrap();
    let token_a = shared.sign("at+jwt", b"{}").await.unwrap();
    assert_eq!(kid_of(&token_a), a);

    source.set(&[(&a_pem, 0), (&b_pem, now)]);
    shared.reload(&source).await.unwrap();
    assert_eq!(published(&shared.current()), kids(&[&a, &b]));
    assert_eq!(
        shared.active_kid(),
        Some(a.clone()),
        "B is still propagating"
    );
    assert_eq!(kid_of(&shared.sign("at+jwt", b"{}").await.unwrap()), a);

    // An hour (and a little) later.
    source.set(&[(&a_pem, 0), (&b_pem, now - HOUR - 5)]);
    shared.reload(&source).await.unwrap();
    assert_eq!(shared.active_kid(), Some(b.clone()));
    assert_eq!(kid_of(&shared.sign("at+jwt", b"{}").await.unwrap()), b);
    assert_eq!(published(&shared.current()), kids(&[&a, &b]));
    assert!(shared.verify(&token_a).is_ok(), "A's tokens still verify");

    // Two hours later: past B's propagation and A's retention. A stays published while the
    // source holds it; once it is deleted it is gone at once.
    source.set(&[(&a_pem, 0), (&b_pem, now - 2 * HOUR - 10)]);
    shared.reload(&source).await.unwrap();
    assert_eq!(published(&shared.current()), kids(&[&a, &b]));
    source.set(&[(&b_pem, now - 2 * HOUR - 10)]);
    shared.reload(&source).await.unwrap();
    assert_eq!(published(&shared.current()), kids(&[&b]));
    assert_eq!(
        shared.verify(&token_a).unwrap_err(),
        VerifyError::UnknownKey
    );
    assert_eq!(shared.status().consecutive_failures, 0);
}

#[tokio::test]
async fn a_key_removed_from_the_source_stays_published_but_never_signs_until_removal_plus_retention()
 {
    let policy = RotationPolicy {
        retention: Duration::from_secs(500),
        ..policy()
    };
    let (a, a_pem) = generate();
    let (b, b_pem) = generate();
    let (c, c_pem) = generate();
    // Rotated every 100 s: A signed from T0 - 300, B from T0 - 200, C (the newest) signs now.
    let keys = [(a_pem.as_str(), T0 - 400), (b_pem.as_str(), T0 - 300)];
    let ring = KeyRing::build(
        set(&[keys[0], keys[1], (&c_pem, T0 - 200)]),
        ALG,
        policy,
        Timestamp(T0),
        None,
    )
    .unwrap();
    assert_eq!(active(&ring, T0), c);
    assert_eq!(published(&ring), kids(&[&a, &b, &c]));
    let token_c = sign_at(&ring, T0).await;

    // C disappears from the source (deleted by hand, say) while it signs.
    let ring = ring.rebuild(set(&keys), Timestamp(T0 + 10)).unwrap();
    assert_eq!(published(&ring), kids(&[&a, &b, &c]));
    assert!(ring.verify(&token_c).is_ok());
    assert!(validator_accepts(&ring.jwks_json(), &token_c));
    assert_eq!(
        state(&ring, &c, T0 + 10),
        KeyState::Retired {
            since: Timestamp(T0 + 10),
            retention_ends: Timestamp(T0 + 510),
            held_by_source: false,
        }
    );
    for now in [T0 + 10, T0 + 509, T0 + 10_000] {
        assert_eq!(active(&ring, now), b, "at {now}");
    }
    assert_eq!(kid_of(&sign_at(&ring, T0 + 10).await), b);

    // B goes too: A signs, never C.
    let ring = ring.rebuild(set(&keys[..1]), Timestamp(T0 + 20)).unwrap();
    assert_eq!(active(&ring, T0 + 20), a);
    assert_eq!(kid_of(&sign_at(&ring, T0 + 20).await), a);
    assert_eq!(published(&ring), kids(&[&a, &b, &c]));

    // The removal time is kept across rebuilds: C leaves at T0 + 10 + 500, B at T0 + 20 + 500.
    let ring = ring.rebuild(set(&keys[..1]), Timestamp(T0 + 509)).unwrap();
    assert_eq!(published(&ring), kids(&[&a, &b, &c]));
    assert!(ring.verify(&token_c).is_ok());
    let ring = ring.rebuild(set(&keys[..1]), Timestamp(T0 + 510)).unwrap();
    assert_eq!(published(&ring), kids(&[&a, &b]));
    assert_eq!(ring.verify(&token_c).unwrap_err(), VerifyError::UnknownKey);
    let ring = ring.rebuild(set(&keys[..1]), Timestamp(T0 + 520)).unwrap();
    assert_eq!(published(&ring), kids(&[&a]));
    assert_eq!(active(&ring, T0 + 520), a);
}

#[tokio::test]
async fn an_expired_key_stops_signing_at_its_expiry_and_stays_published_for_retention() {
    let (a, a_pem) = generate();
    let (b, b_pem) = generate();
    let expiring = |ring_set: KeySet| {
        let mut ring_set = ring_set;
        ring_set.signing = ring_set
            .signing
            .into_iter()
            .map(|key| {
                if key.kid() == b {
                    key.with_expires(Timestamp(T0 + 30))
                } else {
                    key
                }
            })
            .collect();
        ring_set
    };
    let load = || expiring(set(&[(&a_pem, 1), (&b_pem, 2)]));
    let ring = KeyRing::build(load(), ALG, policy(), Timestamp(T0), None).unwrap();
    assert_eq!(active(&ring, T0 + 29), b);
    let token_b = sign_at(&ring, T0 + 29).await;
    assert_eq!(active(&ring, T0 + 30), a, "the older key takes over");
    assert_eq!(
        state(&ring, &b, T0 + 30),
        KeyState::Retired {
            since: Timestamp(T0 + 30),
            retention_ends: Timestamp(T0 + 80),
            held_by_source: false,
        }
    );
    let ring = ring.rebuild(load(), Timestamp(T0 + 79)).unwrap();
    assert_eq!(published(&ring), kids(&[&a, &b]));
    assert!(ring.verify(&token_b).is_ok());
    let ring = ring.rebuild(load(), Timestamp(T0 + 80)).unwrap();
    assert_eq!(published(&ring), kids(&[&a]));
    assert_eq!(ring.verify(&token_b).unwrap_err(), VerifyError::UnknownKey);
}

#[test]
fn pods_loading_the_same_keys_in_any_order_agree_on_the_signing_key() {
    let (_, a) = generate();
    let (_, b) = generate();
    let (_, c) = generate();
    // B and C become ready at the same moment: the tie must be broken the same way everywhere.
    let keys = [(a.as_str(), 0), (b.as_str(), T0), (c.as_str(), T0)];
    let orders = [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]];
    let rings: Vec<KeyRing> = orders
        .iter()
        .map(|order| {
            let keys: Vec<(&str, u64)> = order.iter().map(|&index| keys[index]).collect();
            KeyRing::build(set(&keys), ALG, policy(), Timestamp(T0), None).unwrap()
        })
        .collect();
    for now in [T0, T0 + 99, T0 + 100, T0 + 1_000] {
        let chosen: Vec<String> = rings.iter().map(|ring| active(ring, now)).collect();
        assert!(
            chosen.iter().all(|kid| *kid == chosen[0]),
            "at {now}: {chosen:?}"
        );
    }
}
