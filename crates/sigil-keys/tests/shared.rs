//! The shared key ring: loading from a source, swapping rings, refusing a ring that cannot sign,
//! and keeping the last good ring (and saying so) when the source fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

mod common;

use async_trait::async_trait;
use common::jwks_kids;
use sigil_core::signing::{SigningError, TokenSigner};
use sigil_core::time::Timestamp;
use sigil_keys::{
    Algorithm, KeyRing, KeyRingError, KeySet, KeySource, KeySourceError, RotationPolicy, SealError,
    SessionSecret, SharedKeyRing, SigningAlgorithms, SigningKey,
};
use std::sync::Mutex;

/// One key as the test source holds it: its PEM and its times.
#[derive(Clone)]
struct Entry {
    pem: String,
    created: u64,
    not_before: u64,
    expires: Option<u64>,
}

impl Entry {
    /// Valid since the epoch.
    fn ready(pem: &str) -> Self {
        Self {
            pem: pem.to_owned(),
            created: 0,
            not_before: 0,
            expires: None,
        }
    }
}

/// An in-memory source the test changes between loads, and can make fail.
#[derive(Default)]
struct TestSource {
    keys: Mutex<Vec<Entry>>,
    secrets: Mutex<Vec<SessionSecret>>,
    failure: Mutex<Option<String>>,
}

impl TestSource {
    fn with(keys: Vec<Entry>) -> Self {
        let source = Self::default();
        source.set(keys);
        source
    }

    fn set(&self, keys: Vec<Entry>) {
        *self.keys.lock().unwrap() = keys;
    }

    fn fail(&self, why: Option<&str>) {
        *self.failure.lock().unwrap() = why.map(str::to_owned);
    }
}

#[async_trait]
impl KeySource for TestSource {
    async fn load(&self) -> Result<KeySet, KeySourceError> {
        if let Some(why) = self.failure.lock().unwrap().clone() {
            return Err(KeySourceError::Unavailable {
                source_name: self.describe(),
                cause: why.into(),
            });
        }
        let signing = self
            .keys
            .lock()
            .unwrap()
            .iter()
            .map(|entry| {
                let key = SigningKey::from_pem(&entry.pem, None)
                    .unwrap()
                    .with_created(Timestamp(entry.created))
                    .with_not_before(Timestamp(entry.not_before));
                match entry.expires {
                    Some(expires) => key.with_expires(Timestamp(expires)),
                    None => key,
                }
            })
            .collect();
        Ok(KeySet::new(signing, self.secrets.lock().unwrap().clone()))
    }

    fn describe(&self) -> String {
        "test vault".to_owned()
    }
}

fn pem(alg: Algorithm) -> (String, String) {
    let (key, pem) = SigningKey::generate(alg).unwrap();
    (key.kid().to_owned(), pem)
}

fn now() -> u64 {
    Timestamp::now().as_secs()
}

fn sorted<const N: usize>(kids: [&String; N]) -> Vec<String> {
    let mut kids: Vec<String> = kids.into_iter().cloned().collect();
    kids.sort();
    kids
}

#[tokio::test]
async fn a_reload_swaps_the_ring_and_a_withdrawn_key_still_verifies_but_never_signs() {
    let (first_kid, first) = pem(Algorithm::ES256);
    let source = TestSource::with(vec![Entry::ready(&first)]);
    let shared = SharedKeyRing::load(&source, Algorithm::ES256, RotationPolicy::default())
        .await
        .unwrap();
    assert_eq!(shared.active_kid(), Some(first_kid.clone()));
    let old_token = shared.sign("at+jwt", br#"{"sub":"s"}"#).await.unwrap();
    let reader = shared.clone();
    let held = reader.current();

    // A second key that finished its propagation a few seconds ago.
    let (second_kid, second) = pem(Algorithm::ES256);
    let second = Entry {
        not_before: now() - 10,
        ..Entry::ready(&second)
    };
    source.set(vec![Entry::ready(&first), second.clone()]);
    shared.reload(&source).await.unwrap();
    assert_eq!(
        reader.active_kid(),
        Some(second_kid.clone()),
        "clones see the swap"
    );
    assert!(reader.verify(&old_token).is_ok());
    assert_eq!(
        jwks_kids(&reader.jwks_json()),
        sorted([&first_kid, &second_kid])
    );
    assert_eq!(held.keys().len(), 1, "a ring already taken is unchanged");

    // The first key is withdrawn from the source: still published for the retention period,
    // so its tokens keep verifying, and it never signs again.
    source.set(vec![second]);
    shared.reload(&source).await.unwrap();
    assert!(reader.verify(&old_token).is_ok());
    assert_eq!(
        jwks_kids(&reader.jwks_json()),
        sorted([&first_kid, &second_kid])
    );
    assert_eq!(reader.active_kid(), Some(second_kid));
}

#[tokio::test]
async fn a_reload_that_cannot_sign_keeps_the_current_ring() {
    let (kid, key) = pem(Algorithm::EdDSA);
    let source = TestSource::with(vec![Entry::ready(&key)]);
    let shared = SharedKeyRing::load(&source, Algorithm::EdDSA, RotationPolicy::default())
        .await
        .unwrap();

    // The only key left in the source has expired.
    let (_, expired) = pem(Algorithm::EdDSA);
    source.set(vec![Entry {
        expires: Some(1),
        ..Entry::ready(&expired)
    }]);
    assert!(matches!(
        shared.reload(&source).await,
        Err(KeyRingError::NoActiveKey {
            alg: Algorithm::EdDSA
        })
    ));
    // Only a key for another algorithm.
    let (_, rsa) = pem(Algorithm::RS256);
    source.set(vec![Entry::ready(&rsa)]);
    assert!(matches!(
        shared.reload(&source).await,
        Err(KeyRingError::NoActiveKey { .. })
    ));
    // Nothing at all.
    source.set(Vec::new());
    assert!(matches!(
        shared.reload(&source).await,
        Err(KeyRingError::NoActiveKey { .. })
    ));
    assert_eq!(shared.active_kid(), Some(kid.clone()));
    assert_eq!(jwks_kids(&shared.jwks_json()), [kid]);
    assert!(shared.sign("at+jwt", b"{}").await.is_ok());
    let status = shared.status();
    assert_eq!(status.consecutive_failures, 3);
    assert!(
        status
            .last_error
            .unwrap()
            .1
            .contains("no EdDSA key is valid now"),
        "the reason is recorded"
    );

    source.set(vec![Entry::ready(&rsa)]);
    assert!(matches!(
        SharedKeyRing::load(&source, Algorithm::EdDSA, RotationPolicy::default()).await,
        Err(KeyRingError::NoActiveKey { .. })
    ));
}

/// `not_before` is the earliest time a key may sign: the lifecycle's fallback (a key still in
/// its propagation period signs rather than none) never overrides it, so a reload whose only
/// key is not valid yet is refused and the current ring stays.
#[tokio::test]
async fn a_reload_whose_only_key_is_not_valid_yet_keeps_the_current_ring() {
    let (kid, key) = pem(Algorithm::EdDSA);
    let source = TestSource::with(vec![Entry::ready(&key)]);
    let shared = SharedKeyRing::load(&source, Algorithm::EdDSA, RotationPolicy::default())
        .await
        .unwrap();
    let (_, scheduled) = pem(Algorithm::EdDSA);
    source.set(vec![Entry {
        not_before: u64::MAX,
        ..Entry::ready(&scheduled)
    }]);
    assert!(matches!(
        shared.reload(&source).await,
        Err(KeyRingError::NoActiveKey { .. })
    ));
    assert_eq!(shared.active_kid(), Some(kid));
}

#[tokio::test]
async fn replace_swaps_in_a_ring_built_elsewhere() {
    let (kid, key) = pem(Algorithm::RS256);
    let source = TestSource::with(vec![Entry::ready(&key)]);
    let shared = SharedKeyRing::load(&source, Algorithm::RS256, RotationPolicy::default())
        .await
        .unwrap();
    assert_eq!(shared.active_kid(), Some(kid));
    let (other, _) = SigningKey::generate(Algorithm::ES256).unwrap();
    let other = other.with_created(Timestamp(0));
    let other_kid = other.kid().to_owned();
    shared.replace(
        KeyRing::new(
            KeySet::new(vec![other], Vec::new()),
            Algorithm::ES256,
            RotationPolicy::default(),
        )
        .unwrap(),
    );
    assert_eq!(shared.active_kid(), Some(other_kid));
    assert_eq!(shared.current().signing_alg(), Algorithm::ES256);
}

#[tokio::test]
async fn a_failed_reload_keeps_the_last_good_ring_and_the_status_records_it() {
    let (kid, key) = pem(Algorithm::ES256);
    let source = TestSource::with(vec![Entry::ready(&key)]);
    let before = Timestamp::now();
    let shared = SharedKeyRing::load(&source, Algorithm::ES256, RotationPolicy::default())
        .await
        .unwrap();
    let loaded = shared.status();
    assert!(loaded.ever_loaded());
    assert!(loaded.last_success.unwrap() >= before);
    assert_eq!(
        (
            loaded.consecutive_failures,
            loaded.failures,
            loaded.last_error
        ),
        (0, 0, None)
    );
    let jwks = shared.jwks_json();

    source.fail(Some("connection refused"));
    let error = shared.reload(&source).await.unwrap_err();
    assert!(matches!(
        &error,
        KeyRingError::Load { source_name, source: KeySourceError::Unavailable { .. } }
            if source_name == "test vault"
    ));
    assert!(shared.reload(&source).await.is_err());

    let status = shared.status();
    assert!(
        status.ever_loaded(),
        "an outage does not forget the last load"
    );
    assert_eq!(status.last_success, loaded.last_success);
    assert_eq!(status.consecutive_failures, 2);
    assert_eq!(status.failures, 2);
    let (when, text) = status.last_error.unwrap();
    assert!(when >= before);
    assert!(text.contains("test vault"), "{text}");
    assert!(
        text.contains("connection refused"),
        "the whole chain: {text}"
    );
    // Still signing and publishing with the last good set.
    assert_eq!(shared.active_kid(), Some(kid.clone()));
    assert_eq!(shared.jwks_json(), jwks);
    let token = shared.sign("at+jwt", b"{}").await.unwrap();
    assert!(shared.verify(&token).is_ok());

    source.fail(None);
    shared.reload(&source).await.unwrap();
    let recovered = shared.status();
    assert_eq!(recovered.consecutive_failures, 0);
    assert_eq!(recovered.failures, 2, "failures since start are kept");
    assert!(recovered.last_success >= loaded.last_success);
    assert_eq!(shared.active_kid(), Some(kid));
}

#[tokio::test]
async fn an_empty_shared_ring_signs_nothing_until_a_reload_succeeds() {
    let shared = SharedKeyRing::empty(Algorithm::ES256, RotationPolicy::default());
    assert!(!shared.status().ever_loaded());
    assert!(matches!(
        shared.sign("at+jwt", b"{}").await,
        Err(SigningError::NoActiveKey(alg)) if alg == "ES256"
    ));
    assert_eq!(shared.active_kid(), None);
    assert_eq!(&shared.jwks_json()[..], br#"{"keys":[]}"#);
    assert_eq!(
        shared.published_jwks(),
        None,
        "an empty set is never served"
    );
    assert_eq!(shared.seal("session", b"x"), Err(SealError::NoSecret));

    // The source is down at start: still nothing.
    let (kid, key) = pem(Algorithm::ES256);
    let source = TestSource::with(vec![Entry::ready(&key)]);
    *source.secrets.lock().unwrap() = vec![SessionSecret::new("s1", vec![9; 32]).unwrap()];
    source.fail(Some("timed out"));
    assert!(shared.reload(&source).await.is_err());
    let status = shared.status();
    assert!(!status.ever_loaded());
    assert_eq!(status.consecutive_failures, 1);
    assert!(shared.sign("at+jwt", b"{}").await.is_err());

    source.fail(None);
    shared.reload(&source).await.unwrap();
    assert!(shared.status().ever_loaded());
    assert_eq!(shared.active_kid(), Some(kid.clone()));
    let token = shared.sign("at+jwt", b"{}").await.unwrap();
    assert!(shared.verify(&token).is_ok());
    assert_eq!(jwks_kids(&shared.jwks_json()), [kid]);
    assert_eq!(shared.published_jwks(), Some(shared.jwks_json()));
    let sealed = shared.seal("session", b"x").unwrap();
    assert_eq!(shared.open("session", &sealed).unwrap(), b"x");
}

/// The `alg` and `kid` in a compact JWS's header.
fn alg_and_kid(token: &str) -> (String, String) {
    let header = jsonwebtoken::decode_header(token).unwrap();
    (format!("{:?}", header.alg), header.kid.unwrap())
}

/// ES256 access tokens beside RS256 ID tokens: each algorithm signs with its own key, and a
/// ring is loaded only once every configured algorithm has one.
#[tokio::test]
async fn each_configured_algorithm_signs_with_its_own_key_and_all_are_required() {
    let algorithms = SigningAlgorithms::new(Algorithm::ES256, [Algorithm::RS256]);
    let (es_kid, es) = pem(Algorithm::ES256);
    let source = TestSource::with(vec![Entry::ready(&es)]);
    assert!(matches!(
        SharedKeyRing::load(&source, algorithms.clone(), RotationPolicy::default()).await,
        Err(KeyRingError::NoActiveKey {
            alg: Algorithm::RS256
        })
    ));

    let (rs_kid, rs) = pem(Algorithm::RS256);
    source.set(vec![Entry::ready(&es), Entry::ready(&rs)]);
    let shared = SharedKeyRing::load(&source, algorithms, RotationPolicy::default())
        .await
        .unwrap();
    assert_eq!(shared.access_token_algorithm(), Algorithm::ES256);
    let access = shared.sign("at+jwt", b"{}").await.unwrap();
    assert_eq!(alg_and_kid(&access), ("ES256".to_owned(), es_kid.clone()));
    let id_token = shared
        .sign_with(Algorithm::RS256, "JWT", b"{}")
        .await
        .unwrap();
    assert_eq!(alg_and_kid(&id_token), ("RS256".to_owned(), rs_kid.clone()));
    assert!(shared.verify(&access).is_ok() && shared.verify(&id_token).is_ok());
    assert!(matches!(
        shared.sign_with(Algorithm::EdDSA, "JWT", b"{}").await,
        Err(SigningError::NoActiveKey(alg)) if alg == "EdDSA"
    ));
    assert_eq!(jwks_kids(&shared.jwks_json()), sorted([&es_kid, &rs_kid]));

    // The RS256 key leaves the source: still published (retention), but the set can no
    // longer sign ID tokens, so it is refused and the ring that can stays.
    source.set(vec![Entry::ready(&es)]);
    assert!(matches!(
        shared.reload(&source).await,
        Err(KeyRingError::NoActiveKey {
            alg: Algorithm::RS256
        })
    ));
    assert!(
        shared
            .sign_with(Algorithm::RS256, "JWT", b"{}")
            .await
            .is_ok()
    );
}

/// The ring as the HTTP layer holds it: the core's `Sealer` and `PublishedKeys`, with no
/// adapter in between.
#[tokio::test]
async fn the_ring_serves_the_http_layer_through_the_core_traits() {
    use sigil_core::published_keys::PublishedKeys;
    use sigil_core::sealing::{SealFailure, Sealer};

    let shared = SharedKeyRing::empty(Algorithm::ES256, RotationPolicy::default());
    let sealer: &dyn Sealer = &shared;
    let keys: &dyn PublishedKeys = &shared;
    assert!(matches!(
        sealer.seal("session", b"x"),
        Err(SealFailure::NoSecret)
    ));
    assert_eq!(keys.jwks_json(), None);
    assert_eq!(
        keys.loaded().map_err(|error| error.to_string()),
        Err("no signing keys loaded yet".to_owned())
    );

    let (kid, key) = pem(Algorithm::ES256);
    let source = TestSource::with(vec![Entry::ready(&key)]);
    *source.secrets.lock().unwrap() = vec![SessionSecret::new("s1", vec![9; 32]).unwrap()];
    source.fail(Some("timed out"));
    assert!(shared.reload(&source).await.is_err());
    let reason = keys.loaded().unwrap_err().to_string();
    assert!(
        reason.starts_with("no signing keys loaded yet: ") && reason.contains("timed out"),
        "{reason}"
    );

    source.fail(None);
    shared.reload(&source).await.unwrap();
    assert_eq!(keys.loaded(), Ok(()));
    assert_eq!(jwks_kids(&keys.jwks_json().unwrap()), [kid]);
    let sealed = sealer.seal("session", b"x").unwrap();
    assert_eq!(sealer.open("session", &sealed), Some(b"x".to_vec()));
    assert_eq!(sealer.open("csrf", &sealed), None);
    // A later outage does not make the pod unready.
    source.fail(Some("timed out"));
    assert!(shared.reload(&source).await.is_err());
    assert_eq!(keys.loaded(), Ok(()));
}
