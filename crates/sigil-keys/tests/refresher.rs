//! The background refresher over a directory: a new key file is picked up without anyone
//! calling `reload` (the source's `changed()` notices it); a broken file keeps the last good
//! ring; a ring that starts empty loads as soon as the source has keys.
//!
//! The directory is polled once a second, so each wait below is bounded by a generous
//! timeout, not a fixed sleep: a test ends as soon as the change is seen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

use sigil_core::signing::TokenSigner as _;
use sigil_core::time::Timestamp;
use sigil_keys::{
    Algorithm, FileKeySource, KeyMetadata, KeyRefresher, KeySource, RotationPolicy, SharedKeyRing,
    SigningKey,
};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Long enough that only `changed()` (or a failure's retry) can explain a reload.
const INTERVAL: Duration = Duration::from_secs(3_600);

/// Waits until `condition` holds, failing after five seconds (the poll is every second).
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let waited = tokio::time::timeout(Duration::from_secs(5), async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting until {what}");
}

/// Writes `name` whole: to a hidden temporary file (ignored by the source), then renamed.
fn put(dir: &Path, name: &str, contents: &[u8]) {
    let temporary = dir.join(format!(".{name}.tmp"));
    std::fs::write(&temporary, contents).unwrap();
    std::fs::rename(&temporary, dir.join(name)).unwrap();
}

/// Writes a new ES256 key `NAME.pem` with a sidecar `created`, returns its kid.
fn put_key(dir: &Path, stem: &str, created: u64) -> String {
    let (key, pem_text) = SigningKey::generate(Algorithm::ES256).unwrap();
    let metadata = KeyMetadata {
        created: Some(created),
        ..KeyMetadata::default()
    };
    put(dir, &format!("{stem}.json"), &metadata.to_json());
    put(dir, &format!("{stem}.pem"), pem_text.as_bytes());
    key.kid().to_owned()
}

fn published(shared: &SharedKeyRing, kid: &str) -> bool {
    shared.current().key(kid).is_some()
}

/// A ring loaded from a directory holding one key, kept current by a refresher (which stops
/// when dropped, so keep the whole value for the test's length).
struct Refreshed {
    dir: tempfile::TempDir,
    /// The key in the directory at the start, created at the epoch.
    first: String,
    shared: SharedKeyRing,
    _refresher: KeyRefresher,
}

async fn refreshed_with_one_key() -> Refreshed {
    let dir = tempfile::tempdir().unwrap();
    let first = put_key(dir.path(), "a", 0);
    let source = Arc::new(FileKeySource::new(dir.path()));
    let shared = SharedKeyRing::load(source.as_ref(), Algorithm::ES256, RotationPolicy::default())
        .await
        .unwrap();
    let refresher = KeyRefresher::spawn(shared.clone(), source, INTERVAL);
    Refreshed {
        dir,
        first,
        shared,
        _refresher: refresher,
    }
}

#[tokio::test]
async fn a_new_key_file_is_picked_up_without_calling_reload() {
    let fx = refreshed_with_one_key().await;

    // `sigil keys rotate`: a key created now, published at once, signing after propagation.
    let second = put_key(fx.dir.path(), "b", Timestamp::now().as_secs());
    eventually("the new key is published", || {
        published(&fx.shared, &second)
    })
    .await;
    assert_eq!(
        fx.shared.active_kid(),
        Some(fx.first.clone()),
        "still propagating"
    );
    assert!(published(&fx.shared, &fx.first));
    let status = fx.shared.status();
    assert_eq!(status.consecutive_failures, 0);
}

#[tokio::test]
async fn a_broken_file_keeps_the_last_good_ring_until_it_is_fixed() {
    let fx = refreshed_with_one_key().await;

    put(fx.dir.path(), "broken.pem", b"not a key");
    eventually("the failed reload is recorded", || {
        fx.shared.status().consecutive_failures > 0
    })
    .await;
    let status = fx.shared.status();
    assert!(status.ever_loaded());
    let (_, error) = status.last_error.unwrap();
    assert!(error.contains("broken.pem"), "{error}");
    assert_eq!(fx.shared.active_kid(), Some(fx.first.clone()));
    assert!(fx.shared.sign("at+jwt", b"{}").await.is_ok());

    std::fs::remove_file(fx.dir.path().join("broken.pem")).unwrap();
    let second = put_key(fx.dir.path(), "b", Timestamp::now().as_secs());
    eventually("the fixed directory is loaded", || {
        published(&fx.shared, &second)
    })
    .await;
    assert_eq!(fx.shared.status().consecutive_failures, 0);
    assert_eq!(fx.shared.active_kid(), Some(fx.first));
}

#[tokio::test]
async fn an_empty_ring_is_loaded_as_soon_as_the_source_has_keys() {
    let dir = tempfile::tempdir().unwrap();
    let source = Arc::new(FileKeySource::new(dir.path()));
    let shared = SharedKeyRing::empty(Algorithm::ES256, RotationPolicy::default());
    let _refresher = KeyRefresher::spawn(shared.clone(), source.clone(), INTERVAL);
    eventually("the empty directory is tried", || {
        shared.status().consecutive_failures > 0
    })
    .await;
    assert!(!shared.status().ever_loaded());
    assert!(shared.sign("at+jwt", b"{}").await.is_err());

    let kid = put_key(dir.path(), "a", 0);
    eventually("the key is loaded", || {
        shared.active_kid().as_deref() == Some(kid.as_str())
    })
    .await;
    assert!(shared.status().ever_loaded());
    assert!(shared.sign("at+jwt", b"{}").await.is_ok());
    assert_eq!(source.describe(), dir.path().display().to_string());
}
