//! Prometheus metrics for the key ring, computed when scraped: how fresh the key set is,
//! whether the source is failing, and where each key is in its lifecycle.

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{Gauge, GaugeVec, IntCounter, Opts};
use sigil_keys::{KeyState, SharedKeyRing, Timestamp};

/// Reads a [`SharedKeyRing`] at every scrape.
pub struct KeyMetrics {
    ring: SharedKeyRing,
    last_success: Gauge,
    set_age: Gauge,
    last_error: Gauge,
    consecutive_failures: Gauge,
    failures: IntCounter,
    keys: GaugeVec,
    active_age: Gauge,
    unpropagated: Gauge,
}

impl KeyMetrics {
    /// Metrics over `ring`; register with the service's registry.
    pub fn new(ring: SharedKeyRing) -> Result<Self, prometheus::Error> {
        let gauge = |name: &str, help: &str| Gauge::with_opts(Opts::new(name, help));
        Ok(Self {
            ring,
            last_success: gauge(
                "sigil_key_source_last_success_timestamp_seconds",
                "When keys were last loaded from the key source (0: never).",
            )?,
            set_age: gauge(
                "sigil_key_set_age_seconds",
                "Seconds since the key set in use was loaded; grows during a key-source outage.",
            )?,
            last_error: gauge(
                "sigil_key_source_last_error_timestamp_seconds",
                "When loading from the key source last failed (0: never); the error is logged.",
            )?,
            consecutive_failures: gauge(
                "sigil_key_source_consecutive_failures",
                "Failed loads from the key source since the last success.",
            )?,
            failures: IntCounter::new(
                "sigil_key_source_failures_total",
                "Failed loads from the key source.",
            )?,
            keys: GaugeVec::new(
                Opts::new(
                    "sigil_signing_keys",
                    "Published signing keys by lifecycle state (pending, active, retired).",
                ),
                &["state"],
            )?,
            active_age: gauge(
                "sigil_signing_key_active_seconds",
                "How long the longest-signing active key (of any algorithm) has been signing (0 if it carries no times); compare with the rotation period.",
            )?,
            unpropagated: gauge(
                "sigil_signing_key_unpropagated",
                "1 while a signing key (of any algorithm) has not finished its propagation period (no ready key).",
            )?,
        })
    }

    fn update(&self) {
        let now = Timestamp::now();
        let status = self.ring.status();
        let seconds = |time: Timestamp| time.as_secs() as f64;
        self.last_success
            .set(status.last_success.map_or(0.0, seconds));
        self.set_age.set(
            status
                .last_success
                .map_or(0.0, |at| now.as_secs().saturating_sub(at.as_secs()) as f64),
        );
        self.last_error.set(
            status
                .last_error
                .as_ref()
                .map_or(0.0, |(at, _)| seconds(*at)),
        );
        self.consecutive_failures
            .set(status.consecutive_failures as f64);
        self.failures
            .inc_by(status.failures.saturating_sub(self.failures.get()));

        let ring = self.ring.current();
        let states = ring.states(now);
        let count = |wanted: fn(&KeyState) -> bool| {
            states.iter().filter(|(_, state)| wanted(state)).count() as f64
        };
        let published_retired =
            |state: &KeyState| matches!(state, KeyState::Retired { .. }) && state.is_published(now);
        let by_state = [
            (
                "pending",
                count(|state| matches!(state, KeyState::Pending { .. })),
            ),
            ("active", count(|state| matches!(state, KeyState::Active))),
            (
                "retired",
                states
                    .iter()
                    .filter(|(_, state)| published_retired(state))
                    .count() as f64,
            ),
        ];
        for (state, count) in by_state {
            self.keys.with_label_values(&[state]).set(count);
        }
        // The oldest active key among the algorithms' chains, which is the first to need a
        // successor. A key that carries no times at all (a bare PEM) has no known age: 0.
        let active_since = ring
            .algorithms()
            .all()
            .iter()
            .filter_map(|alg| ring.active(*alg, now))
            .filter(|key| key.created().as_secs() > 0 || key.not_before().as_secs() > 0)
            .map(|key| ring.policy().signs_from(key.created(), key.not_before()))
            .min();
        self.active_age.set(active_since.map_or(0.0, |since| {
            now.as_secs().saturating_sub(since.as_secs()) as f64
        }));
        self.unpropagated
            .set(if ring.signs_with_unpropagated_key(now) {
                1.0
            } else {
                0.0
            });
    }
}

impl Collector for KeyMetrics {
    fn desc(&self) -> Vec<&Desc> {
        [
            self.last_success.desc(),
            self.set_age.desc(),
            self.last_error.desc(),
            self.consecutive_failures.desc(),
            self.failures.desc(),
            self.keys.desc(),
            self.active_age.desc(),
            self.unpropagated.desc(),
        ]
        .concat()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        self.update();
        [
            self.last_success.collect(),
            self.set_age.collect(),
            self.last_error.collect(),
            self.consecutive_failures.collect(),
            self.failures.collect(),
            self.keys.collect(),
            self.active_age.collect(),
            self.unpropagated.collect(),
        ]
        .concat()
    }
}
