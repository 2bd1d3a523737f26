//! Disk growth: snapshots and log purging keep the log bounded, expiry empties the trees.

use super::grant;
use crate::types::{Command, Response};
use crate::{EmbeddedOptions, EmbeddedStore};
use sigil_core::store::{GrantStore, PutOutcome};
use sigil_core::time::Timestamp;
use std::sync::Arc;
use std::time::Duration;

const SNAPSHOT_EVERY: u64 = 100;
const KEPT: u64 = 20;
const GRANTS: usize = 20_000;
const WRITERS: usize = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_is_compacted_while_many_grants_come_and_go() {
    let dir = tempfile::tempdir().unwrap();
    let options = EmbeddedOptions {
        snapshot_every: SNAPSHOT_EVERY,
        logs_kept_after_snapshot: KEPT,
        sweep_interval: Duration::from_secs(3600), // sweeps are explicit below
        ..EmbeddedOptions::default()
    };
    let store = Arc::new(
        EmbeddedStore::open_with(dir.path(), options.clone())
            .await
            .unwrap(),
    );

    let survivor = grant("survivor", "app", Timestamp::now().as_secs() + 3600);
    store.put(survivor.clone()).await.unwrap();

    // Many short-lived grants, from concurrent writers (their proposals share appends).
    let expires_at = Timestamp::now().as_secs() + 1;
    let syncs_before = store.disk().sync_count();
    let started = std::time::Instant::now();
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let store = Arc::clone(&store);
        writers.spawn(async move {
            for i in (w..GRANTS).step_by(WRITERS) {
                let g = grant(&format!("g{i}"), &format!("app{}", i % 7), expires_at);
                assert_eq!(store.put(g).await.unwrap(), PutOutcome::Stored);
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.unwrap();
    }
    let put_time = started.elapsed();
    let put_syncs = store.disk().sync_count() - syncs_before;
    let size_full = store.disk().db().size_on_disk().unwrap();

    while Timestamp::now().as_secs() < expires_at {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut swept = 0;
    loop {
        match store.write(Command::Expire { limit: 1_000 }).await.unwrap() {
            Response::Expired(0) => break,
            Response::Expired(n) => swept += n,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(swept, GRANTS as u64);

    // Everything expired is gone, from the grants and from every index.
    let trees = store.trees();
    assert_eq!(trees.grants.len(), 1);
    assert_eq!(trees.by_client.len(), 1);
    assert_eq!(trees.by_expiry.len(), 1);
    assert_eq!(trees.by_family.len() + trees.by_subject.len(), 0);
    assert_eq!(trees.rotations.len(), 0);

    // The log was snapshotted and purged behind the snapshots.
    let metrics = store.metrics();
    let purged = metrics.purged.map(|id| id.index).unwrap_or(0);
    let last = metrics.last_log_index.unwrap_or(0);
    let db = store.disk().db();
    let log_len = db.open_tree("raft_log").unwrap().len() as u64;
    eprintln!(
        "{GRANTS} puts by {WRITERS} writers in {put_time:?} with {put_syncs} syncs; last log \
         {last}, purged {purged}, log entries on disk {log_len}, snapshot {:?}, db size \
         {size_full} bytes when full, {} bytes after sweeping",
        metrics.snapshot,
        db.size_on_disk().unwrap()
    );
    assert!(put_syncs > 0);
    assert!(
        put_syncs < GRANTS as u64,
        "concurrent puts share log entries and syncs"
    );
    assert!(purged > 0, "log never purged");
    assert!(metrics.snapshot.is_some());
    assert!(
        log_len <= 2 * (SNAPSHOT_EVERY + KEPT),
        "{log_len} log entries kept"
    );
    assert_eq!(
        log_len,
        last - purged,
        "entries on disk are exactly (purged, last]"
    );

    // A restart over a purged log recovers the state from the state machine.
    store.shutdown().await.unwrap();
    drop(store);
    let store = EmbeddedStore::open_with(dir.path(), options).await.unwrap();
    assert_eq!(store.get(&survivor.key).await.unwrap(), Some(survivor));
    assert_eq!(store.get(&grant("g1", "app", 0).key).await.unwrap(), None);
    assert_eq!(store.trees().grants.len(), 1);
    store.shutdown().await.unwrap();
}
