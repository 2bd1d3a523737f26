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
                let wait = if ring.status().consecutive_failures > 0 {
                    retry.min(interval)
                } else {
                    interval
                };
                if ring.status().ever_loaded() || ring.status().consecutive_failures > 0 {
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = source.changed() => {}
                    }
                }
                match ring.reload(source.as_ref()).await {
                    Ok(()) => retry = FIRST_RETRY,
                    Err(error) => {
                        let status = ring.status();
                        tracing::warn!(
                            error = %status.last_error.map(|(_, text)| text).unwrap_or_default(),
                            consecutive_failures = status.consecutive_failures,
                            last_success = ?status.last_success,
                            "refreshing keys from {} failed; still signing with the last good key set",
                            source.describe()
                        );
                        drop(error);
                        retry = (retry * 2).min(interval);
                    }
                }
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
