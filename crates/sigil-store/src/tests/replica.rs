//! The replica behind the embedded store: request ids, rotation and subject listing end to
//! end, and proposals from concurrent callers sharing log entries.

use super::{family, grant};
use crate::types::{Command, RequestId, Response};
use crate::{EmbeddedOptions, EmbeddedStore};
use sigil_core::handle::GrantKey;
use sigil_core::store::{ConsumeOutcome, Grant, GrantStore, PutOutcome, RotateOutcome, Rotation};
use sigil_core::time::Timestamp;
use std::sync::Arc;
use std::time::Duration;

fn in_an_hour() -> u64 {
    Timestamp::now().as_secs() + 3600
}

async fn open(dir: &tempfile::TempDir) -> EmbeddedStore {
    let options = EmbeddedOptions {
        sweep_interval: Duration::from_secs(3600),
        ..EmbeddedOptions::default()
    };
    EmbeddedStore::open_with(dir.path(), options).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_by_subject_returns_live_grants_in_key_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let of = |handle: &str, subject: &str, expires_at: u64| Grant {
        subject: Some(subject.into()),
        ..grant(handle, "app", expires_at)
    };
    let short = Timestamp::now().as_secs() + 1;
    for g in [
        of("a", "alice", in_an_hour()),
        of("b", "alice", in_an_hour()),
        of("c", "alice2", in_an_hour()),
        of("d", "alice", short),
    ] {
        store.put(g).await.unwrap();
    }
    while Timestamp::now().as_secs() < short {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let listed = store.list_by_subject("alice").await.unwrap();
    let mut expected = vec![of("a", "alice", in_an_hour()).key, of("b", "alice", 0).key];
    expected.sort_by(|x, y| x.as_bytes().cmp(y.as_bytes()));
    assert_eq!(listed.iter().map(|g| g.key).collect::<Vec<_>>(), expected);
    assert!(store.list_by_subject("nobody").await.unwrap().is_empty());
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_with_an_id_is_idempotent_and_rotate_works_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let token = Grant {
        family: Some(family(1)),
        ..grant("r0", "app", in_an_hour())
    };
    store.put(token.clone()).await.unwrap();
    let id = Some(RequestId([9; 16]));
    let consume = Command::Consume { key: token.key };
    let first = store.replica().submit(id, consume.clone()).await.unwrap();
    assert!(matches!(
        first,
        Response::Consume(ConsumeOutcome::Consumed(_))
    ));
    assert_eq!(store.replica().submit(id, consume).await.unwrap(), first);

    store.put(grant("s0", "app", in_an_hour())).await.unwrap();
    let rotation = Rotation {
        presented: GrantKey::of_handle("s0"),
        successor: grant("s1", "app", in_an_hour()),
        grace_seconds: 60,
    };
    assert!(matches!(
        store.rotate(rotation.clone()).await.unwrap(),
        RotateOutcome::Rotated { .. }
    ));
    assert!(matches!(
        store.rotate(rotation).await.unwrap(),
        RotateOutcome::WithinGrace { .. }
    ));
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_log_entries() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(&dir).await);
    let before = store.metrics().last_log_index.unwrap_or(0);
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..64 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            for i in 0..20 {
                let g = grant(&format!("t{t}-{i}"), "app", in_an_hour());
                assert_eq!(store.put(g).await.unwrap(), PutOutcome::Stored);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let entries = store.metrics().last_log_index.unwrap_or(0) - before;
    eprintln!("1280 puts in {entries} log entries");
    assert!(entries < 1280 / 4, "{entries} entries for 1280 puts");
    assert_eq!(store.trees().grants.len(), 1280);
    store.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reads_share_leadership_checks() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(&dir).await);
    let g = grant("read-me", "app", in_an_hour());
    store.put(g.clone()).await.unwrap();
    let before = store.replica().read_checks();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let store = Arc::clone(&store);
        let g = g.clone();
        tasks.spawn(async move {
            for _ in 0..10 {
                assert_eq!(store.get(&g.key).await.unwrap(), Some(g.clone()));
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let checks = store.replica().read_checks() - before;
    eprintln!("640 reads took {checks} leadership checks");
    assert!(checks >= 10, "every read waits for a check");
    assert!(checks < 640, "{checks} checks for 640 reads");
    store.shutdown().await.unwrap();
}
