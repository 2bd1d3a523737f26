//! Whether the grant store answers, as a metric: `sigil_store_reachable`.
//!
//! Readiness used to ask the store, which let a store stall of a few seconds pull every pod
//! out of rotation at the same moment, JWT issuance included, which never touches the store.
//! Store health is for dashboards and alerts instead: one background task per pod reads a
//! probe key linearizably every [`PROBE_PERIOD`] and sets the gauge to 1 if the store answered
//! within that period, else 0. The probe keeps what the old readiness check got right: it is
//! bounded (a stalled store costs one pending read, given up after a period) and one at a time
//! (however often anything is scraped, the store sees at most one probe per period per pod).

use prometheus::IntGauge;
use sigil_core::handle::GrantKey;
use sigil_core::store::{GrantStore, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often the store is probed, and how long one probe may take.
pub const PROBE_PERIOD: Duration = Duration::from_secs(1);

/// Why a probe failed.
#[derive(Debug, thiserror::Error)]
enum ProbeError {
    /// The store answered with an error (no leader, for instance).
    #[error("the grant store refused the probe")]
    Refused(#[source] StoreError),
    /// No answer within the period.
    #[error("the grant store did not answer within {0:?}")]
    Silent(Duration),
}

/// The probing task; it stops when this is dropped.
pub struct StoreProbe {
    task: JoinHandle<()>,
}

impl StoreProbe {
    /// Probes `store` every `period` (the first at once) and sets `reachable`, which reads 0
    /// until the first probe has answered.
    pub fn spawn(store: Arc<dyn GrantStore>, reachable: IntGauge, period: Duration) -> Self {
        reachable.set(0);
        Self {
            task: tokio::spawn(probe_forever(store, reachable, period)),
        }
    }
}

impl Drop for StoreProbe {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn probe_forever(store: Arc<dyn GrantStore>, reachable: IntGauge, period: Duration) {
    let mut ticks = tokio::time::interval(period);
    // A probe that took the whole period is followed by the next one a period later, never
    // by a burst.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut was_reachable = None;
    loop {
        ticks.tick().await;
        let outcome = probe(store.as_ref(), period).await;
        let now_reachable = outcome.is_ok();
        reachable.set(i64::from(now_reachable));
        // Logged when it changes, not every period.
        match outcome {
            Err(error) if was_reachable != Some(false) => {
                let error = anyhow::Error::from(error);
                tracing::warn!(error = format!("{error:#}"), "grant store unreachable");
            }
            Ok(()) if was_reachable == Some(false) => {
                tracing::info!("grant store reachable again");
            }
            _ => {}
        }
        was_reachable = Some(now_reachable);
    }
}

/// One linearizable read of a key nobody writes, given up after `within`.
async fn probe(store: &dyn GrantStore, within: Duration) -> Result<(), ProbeError> {
    let key = GrantKey::derived("readiness_probe", &[]);
    match tokio::time::timeout(within, store.get(&key)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(ProbeError::Refused(error)),
        Err(_) => Err(ProbeError::Silent(within)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use sigil_core::store::{
        ConsumeOutcome, Grant, PutOutcome, RevokeTarget, RotateOutcome, Rotation, Throttle,
        ThrottleOutcome,
    };
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Answers `get` while `up`, fails it while down, never answers while `stalled`; counts
    /// the probes in flight at once. Everything else is unused.
    #[derive(Default)]
    struct Probed {
        up: AtomicBool,
        stalled: AtomicBool,
        gets: AtomicUsize,
        in_flight: AtomicUsize,
        most_in_flight: AtomicUsize,
    }

    fn unused<T>() -> Result<T, StoreError> {
        Err(StoreError::internal("unused"))
    }

    #[async_trait]
    impl GrantStore for Probed {
        async fn put(&self, _: Grant) -> Result<PutOutcome, StoreError> {
            unused()
        }
        async fn get(&self, _: &GrantKey) -> Result<Option<Grant>, StoreError> {
            self.gets.fetch_add(1, Ordering::SeqCst);
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_in_flight.fetch_max(now, Ordering::SeqCst);
            struct Leave<'a>(&'a AtomicUsize);
            impl Drop for Leave<'_> {
                fn drop(&mut self) {
                    self.0.fetch_sub(1, Ordering::SeqCst);
                }
            }
            let _leave = Leave(&self.in_flight);
            if self.stalled.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            if self.up.load(Ordering::SeqCst) {
                Ok(None)
            } else {
                Err(StoreError::unavailable("no leader"))
            }
        }
        async fn consume(&self, _: &GrantKey) -> Result<ConsumeOutcome, StoreError> {
            unused()
        }
        async fn revoke(&self, _: RevokeTarget) -> Result<u64, StoreError> {
            unused()
        }
        async fn rotate(&self, _: Rotation) -> Result<RotateOutcome, StoreError> {
            unused()
        }
        async fn list_by_subject(&self, _: &str) -> Result<Vec<Grant>, StoreError> {
            unused()
        }
        async fn throttle(&self, _: Throttle) -> Result<ThrottleOutcome, StoreError> {
            unused()
        }
    }

    const PERIOD: Duration = Duration::from_secs(1);

    /// Lets the probe task run for `time` of (paused) test time.
    async fn after(time: Duration) {
        tokio::time::sleep(time).await;
    }

    fn gauge() -> IntGauge {
        IntGauge::new("sigil_store_reachable", "test").unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn the_gauge_follows_the_store_answering_and_failing() {
        let store = Arc::new(Probed::default());
        let reachable = gauge();
        reachable.set(1);
        let _probe = StoreProbe::spawn(store.clone(), reachable.clone(), PERIOD);
        assert_eq!(
            reachable.get(),
            0,
            "nothing is known before the first answer"
        );
        after(PERIOD / 2).await;
        assert_eq!(reachable.get(), 0, "the store refused");
        store.up.store(true, Ordering::SeqCst);
        after(PERIOD).await;
        assert_eq!(reachable.get(), 1);
        store.up.store(false, Ordering::SeqCst);
        after(PERIOD).await;
        assert_eq!(reachable.get(), 0);
        store.up.store(true, Ordering::SeqCst);
        after(PERIOD).await;
        assert_eq!(reachable.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_store_reads_0_after_one_period_with_one_probe_at_a_time() {
        let store = Arc::new(Probed::default());
        store.up.store(true, Ordering::SeqCst);
        let reachable = gauge();
        let _probe = StoreProbe::spawn(store.clone(), reachable.clone(), PERIOD);
        after(PERIOD / 2).await;
        assert_eq!(reachable.get(), 1);

        store.stalled.store(true, Ordering::SeqCst);
        // The probe sent at 1 s hangs and is given up at 2 s.
        after(PERIOD + PERIOD / 4).await;
        assert_eq!(reachable.get(), 1, "still within the probe's period");
        after(PERIOD).await;
        assert_eq!(reachable.get(), 0);
        let gets = store.gets.load(Ordering::SeqCst);
        after(PERIOD * 10).await;
        assert_eq!(reachable.get(), 0);
        assert!(
            store.gets.load(Ordering::SeqCst) - gets <= 10,
            "at most one probe per period"
        );
        assert_eq!(store.most_in_flight.load(Ordering::SeqCst), 1);

        store.stalled.store(false, Ordering::SeqCst);
        after(PERIOD * 2).await;
        assert_eq!(reachable.get(), 1);
    }
}
