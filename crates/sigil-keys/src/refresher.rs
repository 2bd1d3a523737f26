//! Keeping a [`SharedKeyRing`] current: reload on a timer and whenever the source says it
//! changed; on failure keep the last good ring and retry sooner.

use crate::{KeySource, SharedKeyRing};
use std::sync::Arc;
use std::time::Duration;

/// How soon a failed load is retried (doubling up to the refresh interval).
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// Reloads a [`SharedKeyRing`] from its source in the background.
#[derive(Debug)]
pub struct KeyRefresher {
    task: tokio::task::JoinHandle<()>,
}

impl KeyRefresher {
    /// Starts reloading `ring` from `source` every `interval`, and as soon as the source's
    /// [`changed`](KeySource::changed) resolves. A ring that was never loaded is loaded first,
    /// retrying from one second up. Stops when dropped.
    pub fn spawn(ring: SharedKeyRing, source: Arc<dyn KeySource>, interval: Duration) -> Self {
        let task = tokio::spawn(async move {
            let mut retry = FIRST_RETRY;
            loop {
                let status = ring.status();
                let failing = status.consecutive_failures > 0;
                // A ring never tried is loaded at once; otherwise wait for the timer (or the
                // retry, while failing) or a change.
                if status.ever_loaded() || failing {
                    let wait = if failing {
                        retry.min(interval)
                    } else {
                        interval
                    };
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = source.changed() => {}
                    }
                }
                // A failure is recorded in the status, as text with its causes.
                if ring.reload(source.as_ref()).await.is_ok() {
                    retry = FIRST_RETRY;
                    continue;
                }
                let status = ring.status();
                let keeping = if status.ever_loaded() {
                    "still signing with the last good key set"
                } else {
                    "no keys loaded yet, not ready"
                };
                tracing::warn!(
                    error = %status.last_error.map(|(_, text)| text).unwrap_or_default(),
                    consecutive_failures = status.consecutive_failures,
                    last_success = ?status.last_success,
                    "refreshing keys from {} failed; {keeping}",
                    source.describe()
                );
                retry = (retry * 2).min(interval);
            }
        });
        Self { task }
    }
}

impl Drop for KeyRefresher {
    fn drop(&mut self) {
        self.task.abort();
    }
}
