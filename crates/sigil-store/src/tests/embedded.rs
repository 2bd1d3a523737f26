//! The embedded store through the core's `GrantStore` trait.

use super::grant;
use crate::{EmbeddedOptions, EmbeddedStore};
use sigil_core::store::{ConsumeOutcome, Grant, GrantStore, PutOutcome, RevokeTarget, StoreError};
use sigil_core::time::Timestamp;
use std::sync::Arc;
use std::time::Duration;

fn in_an_hour() -> u64 {
    Timestamp::now().as_secs() + 3600
}

/// Options that never sweep on their own, so tests see unswept state.
fn no_sweeping() -> EmbeddedOptions {
    EmbeddedOptions {
        sweep_interval: Duration::from_secs(3600),
        ..EmbeddedOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_get_consume_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    let g = grant("code", "app", in_an_hour());

    assert_eq!(store.put(g.clone()).await.unwrap(), PutOutcome::Stored);
    assert_eq!(
        store.put(g.clone()).await.unwrap(),
        PutOutcome::AlreadyExists
    );
    assert_eq!(store.get(&g.key).await.unwrap(), Some(g.clone()));

    let ConsumeOutcome::Consumed(consumed) = store.consume(&g.key).await.unwrap() else {
        panic!("first consume");
    };
    assert!(consumed.consumed_at.is_some());
    assert_eq!(store.get(&g.key).await.unwrap(), Some(consumed));

    assert_eq!(
        store
            .revoke(RevokeTarget::Client("app".into()))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.get(&g.key).await.unwrap(), None);
    assert_eq!(
        store.consume(&g.key).await.unwrap(),
        ConsumeOutcome::NotFound
    );
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_was_fsynced_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open_with(dir.path(), no_sweeping())
        .await
        .unwrap();
    let g = grant("code", "app", in_an_hour());
    let before = store.disk().sync_count();
    store.put(g.clone()).await.unwrap();
    let after_put = store.disk().sync_count();
    assert!(after_put > before, "put acknowledged without a sync");
    store.consume(&g.key).await.unwrap();
    assert!(
        store.disk().sync_count() > after_put,
        "consume acknowledged without a sync"
    );
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_keeps_every_grant_and_consumed_stays_consumed() {
    let dir = tempfile::tempdir().unwrap();
    let grants: Vec<Grant> = (0..50)
        .map(|i| grant(&format!("g{i}"), "app", in_an_hour()))
        .collect();
    let consumed = {
        let store = EmbeddedStore::open(dir.path()).await.unwrap();
        for g in &grants {
            assert_eq!(store.put(g.clone()).await.unwrap(), PutOutcome::Stored);
        }
        let ConsumeOutcome::Consumed(consumed) = store.consume(&grants[0].key).await.unwrap()
        else {
            panic!("first consume");
        };
        store.shutdown().await.unwrap();
        consumed
    };

    for _ in 0..2 {
        let store = EmbeddedStore::open(dir.path()).await.unwrap();
        assert_eq!(
            store.get(&grants[0].key).await.unwrap(),
            Some(consumed.clone())
        );
        for g in &grants[1..] {
            assert_eq!(store.get(&g.key).await.unwrap().as_ref(), Some(g));
        }
        assert_eq!(
            store.consume(&grants[0].key).await.unwrap(),
            ConsumeOutcome::AlreadyConsumed(consumed.clone())
        );
        assert_eq!(
            store.put(grants[1].clone()).await.unwrap(),
            PutOutcome::AlreadyExists
        );
        store.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_grant_is_not_returned_before_it_is_swept() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open_with(dir.path(), no_sweeping())
        .await
        .unwrap();
    let expires_at = Timestamp::now().as_secs() + 2;
    let g = grant("short", "app", expires_at);
    store.put(g.clone()).await.unwrap();
    assert_eq!(store.get(&g.key).await.unwrap(), Some(g.clone()));

    while Timestamp::now().as_secs() < expires_at {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.get(&g.key).await.unwrap(), None);
    assert!(
        store.trees().get(&g.key).unwrap().is_some(),
        "not swept yet"
    );
    assert_eq!(
        store.consume(&g.key).await.unwrap(),
        ConsumeOutcome::NotFound
    );
    // Its key is free again.
    let again = grant("short", "app", in_an_hour());
    assert_eq!(store.put(again.clone()).await.unwrap(), PutOutcome::Stored);
    assert_eq!(store.get(&g.key).await.unwrap(), Some(again));
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_removes_expired_grants() {
    let dir = tempfile::tempdir().unwrap();
    let options = EmbeddedOptions {
        sweep_interval: Duration::from_millis(100),
        ..EmbeddedOptions::default()
    };
    let store = EmbeddedStore::open_with(dir.path(), options).await.unwrap();
    let past = Timestamp::now().as_secs() - 1;
    let gone = grant("gone", "app", past);
    let kept = grant("kept", "app", in_an_hour());
    store.put(gone.clone()).await.unwrap();
    store.put(kept.clone()).await.unwrap();

    let mut waited = Duration::ZERO;
    while store.trees().get(&gone.key).unwrap().is_some() {
        assert!(waited < Duration::from_secs(10), "sweeper did not run");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    assert_eq!(store.get(&kept.key).await.unwrap(), Some(kept));
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_consumes_of_one_key_consume_it_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).await.unwrap());
    let g = grant("code", "app", in_an_hour());
    store.put(g.clone()).await.unwrap();

    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let store = Arc::clone(&store);
        let key = g.key;
        tasks.spawn(async move { store.consume(&key).await.unwrap() });
    }
    let (mut consumed, mut replays) = (Vec::new(), 0);
    while let Some(outcome) = tasks.join_next().await {
        match outcome.unwrap() {
            ConsumeOutcome::Consumed(grant) => consumed.push(grant),
            ConsumeOutcome::AlreadyConsumed(_) => replays += 1,
            ConsumeOutcome::NotFound => panic!("not found"),
        }
    }
    assert_eq!(consumed.len(), 1);
    assert_eq!(replays, 63);
    assert_eq!(store.get(&g.key).await.unwrap(), Some(consumed[0].clone()));
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_after_shutdown_are_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    store.shutdown().await.unwrap();
    let g = grant("late", "app", in_an_hour());
    assert!(matches!(
        store.put(g.clone()).await,
        Err(StoreError::Unavailable { .. })
    ));
    assert!(matches!(
        store.get(&g.key).await,
        Err(StoreError::Unavailable { .. })
    ));
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_is_opened_by_one_store_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).await.unwrap();
    assert!(matches!(
        EmbeddedStore::open(dir.path()).await,
        Err(StoreError::Internal { .. })
    ));
    store.shutdown().await.unwrap();
}
