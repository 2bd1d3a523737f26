//! The shared key ring: loading from a source, swapping rings, refusing a ring that cannot sign.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

use async_trait::async_trait;
use sigil_core::signing::TokenSigner;
use sigil_core::time::Timestamp;
use sigil_keys::{
    Algorithm, KeyRing, KeyRingError, KeySource, KeySourceError, SharedKeyRing, SigningKey,
};
use std::sync::Mutex;

/// An in-memory source: PEMs with their `not_before`, changed by the test between loads.
struct Pems(Mutex<Vec<(String, u64)>>);

#[async_trait]
impl KeySource for Pems {
    async fn load(&self) -> Result<Vec<SigningKey>, KeySourceError> {
        let pems = self.0.lock().unwrap().clone();
        Ok(pems
            .iter()
            .map(|(pem, not_before)| {
                SigningKey::from_pem(pem, None)
                    .unwrap()
                    .with_not_before(Timestamp(*not_before))
            })
            .collect())
    }
}

fn pem(alg: Algorithm) -> (String, String) {
    let (key, pem) = SigningKey::generate(alg).unwrap();
    (key.kid().to_owned(), pem)
}

#[tokio::test]
async fn a_reload_swaps_the_ring_and_old_tokens_verify_while_published() {
    let (first_kid, first) = pem(Algorithm::ES256);
    let source = Pems(Mutex::new(vec![(first.clone(), 0)]));
    let shared = SharedKeyRing::load(&source, Algorithm::ES256)
        .await
        .unwrap();
    assert_eq!(shared.active_kid(), Some(first_kid.clone()));
    let old_token = shared.sign("at+jwt", br#"{"sub":"s"}"#).unwrap();
    let reader = shared.clone();
    let held = reader.current();

    let (second_kid, second) = pem(Algorithm::ES256);
    *source.0.lock().unwrap() = vec![(first, 0), (second.clone(), 1)];
    shared.reload(&source).await.unwrap();
    assert_eq!(
        reader.active_kid(),
        Some(second_kid.clone()),
        "clones see the swap"
    );
    assert!(reader.verify(&old_token).is_ok());
    let jwks: serde_json::Value = serde_json::from_slice(&reader.jwks_json()).unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    assert_eq!(held.keys().len(), 1, "a ring already taken is unchanged");

    // The first key is withdrawn: its tokens no longer verify.
    *source.0.lock().unwrap() = vec![(second, 1)];
    shared.reload(&source).await.unwrap();
    assert!(reader.verify(&old_token).is_err());
}

#[tokio::test]
async fn a_reload_that_cannot_sign_keeps_the_current_ring() {
    let (kid, key) = pem(Algorithm::EdDSA);
    let source = Pems(Mutex::new(vec![(key, 0)]));
    let shared = SharedKeyRing::load(&source, Algorithm::EdDSA)
        .await
        .unwrap();

    let (_, pending) = pem(Algorithm::EdDSA);
    *source.0.lock().unwrap() = vec![(pending, u64::MAX)];
    assert!(matches!(
        shared.reload(&source).await,
        Err(KeyRingError::NoActiveKey {
            alg: Algorithm::EdDSA
        })
    ));
    let (_, rsa) = pem(Algorithm::RS256);
    *source.0.lock().unwrap() = vec![(rsa, 0)];
    assert!(matches!(
        shared.reload(&source).await,
        Err(KeyRingError::NoActiveKey { .. })
    ));
    assert_eq!(shared.active_kid(), Some(kid));
    assert!(shared.sign("at+jwt", b"{}").is_ok());

    assert!(matches!(
        SharedKeyRing::load(&source, Algorithm::EdDSA).await,
        Err(KeyRingError::NoActiveKey { .. })
    ));
}

#[tokio::test]
async fn replace_swaps_in_a_ring_built_elsewhere() {
    let (kid, key) = pem(Algorithm::RS256);
    let source = Pems(Mutex::new(vec![(key, 0)]));
    let shared = SharedKeyRing::load(&source, Algorithm::RS256)
        .await
        .unwrap();
    assert_eq!(shared.active_kid(), Some(kid));
    let (other, _) = SigningKey::generate(Algorithm::ES256).unwrap();
    let other_kid = other.kid().to_owned();
    shared.replace(KeyRing::new(vec![other], Algorithm::ES256).unwrap());
    assert_eq!(shared.active_kid(), Some(other_kid));
    assert_eq!(shared.current().signing_alg(), Algorithm::ES256);
}
