//! Login-failure counters, the grant kind behind cluster-wide sign-in throttling.
//!
//! The store keeps one counter per key (an account, a client address) as a grant of kind
//! [`GrantKind::LoginFailures`] and changes it only through [`GrantStore::throttle`]: one
//! atomic command, so that every token pod sees every failure, whichever pod it reached. The
//! rule is here, as a pure function of (counter, command, now), so that every store replica
//! decides alike; the command carries its [`ThrottlePolicy`], so the store knows no policy.
//!
//! [`GrantStore::throttle`]: super::GrantStore::throttle

use super::{Grant, GrantKind};
use crate::handle::GrantKey;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How failures under one key slow down further attempts: the `free_failures`-th failure
/// makes the next attempt wait `first_delay_secs`, and each further failure doubles the wait,
/// up to `max_delay_secs`. A counter is forgotten `window_secs` after its last failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThrottlePolicy {
    /// Failures (within the window) before attempts must wait; at least 1.
    pub free_failures: u32,
    /// The wait after the first failure past the free ones, in seconds.
    pub first_delay_secs: u64,
    /// The longest wait, in seconds.
    pub max_delay_secs: u64,
    /// How long a counter is kept after its last failure, in seconds.
    pub window_secs: u64,
}

impl ThrottlePolicy {
    /// How long the next attempt must wait after the `failures`-th failure, in seconds.
    pub fn delay_after(&self, failures: u64) -> u64 {
        let Some(beyond) = failures.checked_sub(u64::from(self.free_failures)) else {
            return 0;
        };
        let doubled = u32::try_from(beyond)
            .ok()
            .and_then(|shift| 1u64.checked_shl(shift))
            .and_then(|factor| self.first_delay_secs.checked_mul(factor))
            .unwrap_or(u64::MAX);
        doubled.min(self.max_delay_secs)
    }
}

/// A key's counter: the payload of its [`GrantKind::LoginFailures`] grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureCount {
    /// Failures counted since the counter started.
    pub failures: u64,
    /// No attempt is admitted before this time.
    pub blocked_until: Timestamp,
}

impl Default for FailureCount {
    /// No failures, nothing blocked.
    fn default() -> Self {
        Self {
            failures: 0,
            blocked_until: Timestamp(0),
        }
    }
}

impl FailureCount {
    /// The counter `grant` holds, if it is a login-failure counter.
    pub fn of(grant: &Grant) -> Option<FailureCount> {
        if grant.kind != GrantKind::LoginFailures {
            return None;
        }
        serde_json::from_slice(&grant.payload).ok()
    }

    /// True while attempts under the key must wait.
    pub fn blocks(&self, now: Timestamp) -> bool {
        !now.reached(self.blocked_until)
    }
}

/// What happened under a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThrottleEvent {
    /// An attempt is about to be checked. Refused while the key must wait; admitted otherwise.
    /// When failing would earn a wait, the wait is reserved at once, so that attempts arriving
    /// together (on any pod) cannot all slip through the moment a wait ends.
    Attempt,
    /// The attempt failed: count it, and start the wait it earns.
    Failure,
}

/// A throttle command, applied atomically by [`GrantStore::throttle`](super::GrantStore::throttle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throttle {
    /// The counter's key.
    pub key: GrantKey,
    /// What happened.
    pub event: ThrottleEvent,
    /// The rule to apply.
    pub policy: ThrottlePolicy,
}

/// The result of [`GrantStore::throttle`](super::GrantStore::throttle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThrottleOutcome {
    /// The attempt may be checked.
    Admitted,
    /// The attempt must wait until `until`; nothing changed.
    Blocked {
        /// When the next attempt is admitted.
        until: Timestamp,
    },
    /// The failure was counted; this is the counter now.
    Counted(FailureCount),
}

impl Throttle {
    /// What the command does at `now` to `current`, the live grant under the key (if any):
    /// the outcome, and the grant to store under the key if it changes. A key that holds a
    /// grant of another kind is never overwritten.
    pub fn apply(
        &self,
        current: Option<&Grant>,
        now: Timestamp,
    ) -> (ThrottleOutcome, Option<Grant>) {
        let foreign = current.is_some_and(|grant| grant.kind != GrantKind::LoginFailures);
        let count = current.and_then(FailureCount::of).unwrap_or_default();
        let (outcome, next, slides) = match self.event {
            ThrottleEvent::Attempt => {
                if count.blocks(now) {
                    let until = count.blocked_until;
                    return (ThrottleOutcome::Blocked { until }, None);
                }
                let reserve = self.policy.delay_after(count.failures.saturating_add(1));
                if reserve == 0 {
                    return (ThrottleOutcome::Admitted, None);
                }
                let reserved = FailureCount {
                    blocked_until: after(now, reserve),
                    ..count
                };
                (ThrottleOutcome::Admitted, reserved, false)
            }
            ThrottleEvent::Failure => {
                let failures = count.failures.saturating_add(1);
                let wait = self.policy.delay_after(failures);
                let counted = FailureCount {
                    failures,
                    blocked_until: count.blocked_until.max(after(now, wait)),
                };
                (ThrottleOutcome::Counted(counted), counted, true)
            }
        };
        if foreign {
            return (outcome, None);
        }
        let window_end = after(now, self.policy.window_secs);
        let kept_until = match current {
            // An attempt does not extend the window; only failures do.
            Some(grant) if !slides => grant.expires_at,
            _ => window_end,
        };
        let grant = Grant {
            key: self.key,
            kind: GrantKind::LoginFailures,
            client_id: String::new(),
            subject: None,
            family: None,
            issued_at: current.map_or(now, |grant| grant.issued_at),
            // Never forgotten while it still blocks.
            expires_at: kept_until.max(next.blocked_until).max(after(now, 1)),
            consumed_at: None,
            payload: serde_json::to_vec(&next).unwrap_or_default(),
        };
        (outcome, Some(grant))
    }
}

fn after(now: Timestamp, seconds: u64) -> Timestamp {
    now.plus(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp(1_000_000);

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy {
            free_failures: 3,
            first_delay_secs: 2,
            max_delay_secs: 30,
            window_secs: 600,
        }
    }

    fn command(event: ThrottleEvent) -> Throttle {
        Throttle {
            key: GrantKey::derived("test", &["k"]),
            event,
            policy: policy(),
        }
    }

    /// Applies `event` at `at` to `stored`, storing the result as the store would.
    fn step(stored: &mut Option<Grant>, event: ThrottleEvent, at: u64) -> ThrottleOutcome {
        let now = Timestamp(at);
        let live = stored
            .as_ref()
            .filter(|grant| !now.reached(grant.expires_at));
        let (outcome, next) = command(event).apply(live, now);
        if let Some(next) = next {
            *stored = Some(next);
        }
        outcome
    }

    #[test]
    fn delays_double_past_the_free_failures_up_to_the_maximum() {
        let delays: Vec<u64> = (0..=9).map(|n| policy().delay_after(n)).collect();
        assert_eq!(delays, [0, 0, 0, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(policy().delay_after(u64::MAX), 30, "no overflow");
        let one_free = ThrottlePolicy {
            free_failures: 1,
            ..policy()
        };
        assert_eq!(
            one_free.delay_after(1),
            2,
            "the first failure earns the first wait"
        );
    }

    #[test]
    fn failures_past_the_free_ones_block_attempts_for_a_growing_wait() {
        let mut stored = None;
        let t = NOW.0;
        for n in 1..=2 {
            assert_eq!(
                step(&mut stored, ThrottleEvent::Attempt, t),
                ThrottleOutcome::Admitted
            );
            let ThrottleOutcome::Counted(count) = step(&mut stored, ThrottleEvent::Failure, t)
            else {
                panic!("not counted");
            };
            assert_eq!(count.failures, n);
            assert!(!count.blocks(Timestamp(t)));
        }
        // The third attempt would earn a wait: it is admitted and the wait reserved.
        assert_eq!(
            step(&mut stored, ThrottleEvent::Attempt, t),
            ThrottleOutcome::Admitted
        );
        let until = Timestamp(t + 2);
        assert_eq!(
            step(&mut stored, ThrottleEvent::Attempt, t),
            ThrottleOutcome::Blocked { until },
            "a concurrent attempt waits for the reserved one"
        );
        let counted = step(&mut stored, ThrottleEvent::Failure, t + 1);
        assert_eq!(
            counted,
            ThrottleOutcome::Counted(FailureCount {
                failures: 3,
                blocked_until: Timestamp(t + 3),
            })
        );
        assert_eq!(
            step(&mut stored, ThrottleEvent::Attempt, t + 2),
            ThrottleOutcome::Blocked {
                until: Timestamp(t + 3)
            }
        );
        // After the wait: one attempt, which fails and doubles the wait.
        assert_eq!(
            step(&mut stored, ThrottleEvent::Attempt, t + 3),
            ThrottleOutcome::Admitted
        );
        let ThrottleOutcome::Counted(count) = step(&mut stored, ThrottleEvent::Failure, t + 3)
        else {
            panic!("not counted");
        };
        assert_eq!(count.failures, 4);
        assert_eq!(count.blocked_until, Timestamp(t + 3 + 4));
    }

    #[test]
    fn a_counter_is_forgotten_a_window_after_its_last_failure() {
        let mut stored = None;
        for at in [0, 100, 200] {
            step(&mut stored, ThrottleEvent::Failure, NOW.0 + at);
        }
        let grant = stored.clone().unwrap_or_else(|| panic!("nothing stored"));
        assert_eq!(grant.kind, GrantKind::LoginFailures);
        assert_eq!(grant.issued_at, NOW, "started at the first failure");
        assert_eq!(
            grant.expires_at,
            Timestamp(NOW.0 + 200 + 600),
            "the window slides"
        );
        assert_eq!(FailureCount::of(&grant).map(|c| c.failures), Some(3));
        // An attempt does not slide it.
        step(&mut stored, ThrottleEvent::Attempt, NOW.0 + 300);
        let grant = stored.clone().unwrap_or_else(|| panic!("nothing stored"));
        assert_eq!(grant.expires_at, Timestamp(NOW.0 + 800));
        // Past the window, counting starts again.
        let counted = step(&mut stored, ThrottleEvent::Failure, NOW.0 + 800);
        assert_eq!(
            counted,
            ThrottleOutcome::Counted(FailureCount {
                failures: 1,
                blocked_until: Timestamp(NOW.0 + 800),
            })
        );
    }

    #[test]
    fn a_counter_outlives_its_wait() {
        let short_window = ThrottlePolicy {
            free_failures: 1,
            first_delay_secs: 50,
            max_delay_secs: 50,
            window_secs: 10,
        };
        let failure = Throttle {
            policy: short_window,
            ..command(ThrottleEvent::Failure)
        };
        let (_, grant) = failure.apply(None, NOW);
        let grant = grant.unwrap_or_else(|| panic!("nothing stored"));
        assert_eq!(grant.expires_at, Timestamp(NOW.0 + 50));
    }

    #[test]
    fn a_key_holding_another_grant_is_left_alone() {
        let other = Grant {
            key: command(ThrottleEvent::Failure).key,
            kind: GrantKind::Session,
            client_id: String::new(),
            subject: Some("alice".into()),
            family: None,
            issued_at: NOW,
            expires_at: Timestamp(NOW.0 + 100),
            consumed_at: None,
            payload: Vec::new(),
        };
        for event in [ThrottleEvent::Attempt, ThrottleEvent::Failure] {
            let (_, next) = Throttle {
                policy: ThrottlePolicy {
                    free_failures: 1,
                    ..policy()
                },
                ..command(event)
            }
            .apply(Some(&other), NOW);
            assert_eq!(next, None, "{event:?}");
        }
    }
}
