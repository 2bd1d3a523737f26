//! The rotation policy, and the lifecycle it gives every key: pending → active → retired.
//!
//! Everything here is a pure function of the keys' times, the policy and `now`, so every pod
//! holding the same key set computes the same states without talking to the others.

use sigil_core::time::Timestamp;
use std::time::Duration;

/// How keys move through their lifecycle.
///
/// - A key is **pending** from when the source holds it until
///   `max(not_before, created + propagation)`: it is published in the JWKS, so validators
///   fetch it, but nothing signs with it yet.
/// - Then it is **active**, if it is the newest key past that point for its algorithm: it signs.
/// - When a newer key takes over it is **retired**: it never signs again, but stays published
///   and accepted while the source holds it, and for at least `retention`, so tokens it signed
///   keep validating until they expire; after `retention`, `sigil keys rotate` deletes it. A
///   key that expires, or disappears from the source, is retired then and dropped `retention`
///   later.
/// - `rotation` is how long a key should sign before the next one takes over:
///   `sigil keys rotate --if-due` adds a key when the newest one is older than
///   `rotation − propagation`, and the key-age metric shows when a rotation is overdue.
///
/// For Key Vault certificates the same rule reads: the newest enabled version older than the
/// propagation (rollover) period signs; every enabled version is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationPolicy {
    /// How long a new key is published before it signs. At least the longest time a
    /// validator caches the JWKS.
    pub propagation: Duration,
    /// How long a key signs before it should be replaced.
    pub rotation: Duration,
    /// How long a retired key stays published at least. At least the longest token lifetime.
    pub retention: Duration,
}

impl Default for RotationPolicy {
    /// Published two days ahead, rotated every 90 days, retained for seven days.
    fn default() -> Self {
        const DAY: u64 = 24 * 60 * 60;
        Self {
            propagation: Duration::from_secs(2 * DAY),
            rotation: Duration::from_secs(90 * DAY),
            retention: Duration::from_secs(7 * DAY),
        }
    }
}

impl RotationPolicy {
    /// When a key created at `created` with `not_before` may start signing. Key times are
    /// whole seconds, so a propagation with a fraction of a second counts as the next whole
    /// second: never shorter than configured.
    pub fn signs_from(&self, created: Timestamp, not_before: Timestamp) -> Timestamp {
        not_before.max(after(created, self.propagation))
    }

    /// The JWKS `Cache-Control: max-age` for a refresher polling every `refresh`: a validator
    /// caching the JWKS no longer than this, fetched right before a pod saw a new key, still
    /// has it before the key signs. Half of `propagation − refresh`, at most one day.
    pub fn jwks_max_age(&self, refresh: Duration) -> Duration {
        (self.propagation.saturating_sub(refresh) / 2).min(Duration::from_secs(24 * 60 * 60))
    }
}

/// `time + period`, the period rounded up to whole seconds (key times are whole seconds):
/// a period cut short would let a key sign early or leave the JWKS early.
pub(crate) fn after(time: Timestamp, period: Duration) -> Timestamp {
    let seconds = period
        .as_secs()
        .saturating_add(u64::from(period.subsec_nanos() > 0));
    Timestamp(time.as_secs().saturating_add(seconds))
}

/// What the lifecycle needs to know of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timeline {
    pub(crate) created: Timestamp,
    pub(crate) not_before: Timestamp,
    pub(crate) expires: Option<Timestamp>,
    /// When the key disappeared from the source, if it did while still published.
    pub(crate) removed: Option<Timestamp>,
}

impl Timeline {
    /// When the key may start signing.
    pub(crate) fn signs_from(&self, policy: &RotationPolicy) -> Timestamp {
        policy.signs_from(self.created, self.not_before)
    }

    fn usable_at(&self, now: Timestamp) -> bool {
        self.removed.is_none() && self.expires.is_none_or(|expires| now < expires)
    }
}

/// Where a key is in its lifecycle at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Published; signs from the given time.
    Pending {
        /// When it will sign (if nothing newer takes over first).
        signs_from: Timestamp,
    },
    /// Signs.
    Active,
    /// Superseded by a newer key, expired, or removed from the source.
    Retired {
        /// When it stopped signing (or would have started).
        since: Timestamp,
        /// `since` plus the retention period: from then on `sigil keys rotate` may delete
        /// it, and an expired or removed key leaves the JWKS.
        retention_ends: Timestamp,
        /// Superseded but still in the source (neither expired nor removed): published for
        /// as long as the source holds it, since its history is not known precisely enough
        /// to withdraw it sooner (two keys without times look superseded since the epoch).
        held_by_source: bool,
    },
}

impl KeyState {
    /// True while the key is in the JWKS and verifies tokens.
    pub fn is_published(&self, now: Timestamp) -> bool {
        match self {
            Self::Pending { .. } | Self::Active => true,
            Self::Retired {
                retention_ends,
                held_by_source,
                ..
            } => *held_by_source || now < *retention_ends,
        }
    }

    /// True once a retired key's retention has ended: it may be deleted from the source.
    pub fn past_retention(&self, now: Timestamp) -> bool {
        matches!(self, Self::Retired { retention_ends, .. } if now >= *retention_ends)
    }
}

/// The index of the key that signs at `now` among keys of one algorithm (ties broken by the
/// order of `order_keys`, greater wins), and whether it is only a fallback.
///
/// The newest key past its propagation signs. If none is (a brand-new deployment whose only
/// key was just created, or every activated key expired or was removed), the key that will
/// be ready soonest signs rather than none: signing with a key validators may not have yet
/// beats refusing every token, and the fallback is reported. Only the propagation period is
/// waived that way: a key whose own `not_before` is still ahead never signs.
pub(crate) fn active_index<K: Ord>(
    timelines: &[(Timeline, K)],
    policy: &RotationPolicy,
    now: Timestamp,
) -> Option<(usize, bool)> {
    let candidates = timelines
        .iter()
        .enumerate()
        .map(|(index, (timeline, order))| (*timeline, (order, index)));
    choose(candidates, policy, now).map(|((_, index), fallback)| (index, fallback))
}

/// [`active_index`] over any cloneable iterator of candidates, without collecting them: the
/// key ring calls this once per signature. Returns the chosen candidate's `K` and whether it
/// is only a fallback.
pub(crate) fn choose<K: Ord>(
    candidates: impl Iterator<Item = (Timeline, K)> + Clone,
    policy: &RotationPolicy,
    now: Timestamp,
) -> Option<(K, bool)> {
    let rank = |(timeline, _): &(Timeline, K)| (timeline.signs_from(policy), timeline.created);
    let usable = candidates.filter(|(timeline, _)| timeline.usable_at(now));
    let ready = usable
        .clone()
        .filter(|(timeline, _)| timeline.signs_from(policy) <= now)
        .max_by(|a, b| (rank(a), &a.1).cmp(&(rank(b), &b.1)));
    if let Some((_, order)) = ready {
        return Some((order, false));
    }
    usable
        .filter(|(timeline, _)| timeline.not_before <= now)
        .min_by(|a, b| (rank(a), &a.1).cmp(&(rank(b), &b.1)))
        .map(|(_, order)| (order, true))
}

/// Every key's state at `now`, for keys of one algorithm (or the session secrets).
pub(crate) fn states<K: Ord>(
    timelines: &[(Timeline, K)],
    policy: &RotationPolicy,
    now: Timestamp,
) -> Vec<KeyState> {
    let active = active_index(timelines, policy, now).map(|(index, _)| index);
    let retired = |since: Timestamp, held_by_source: bool| KeyState::Retired {
        since,
        retention_ends: after(since, policy.retention),
        held_by_source,
    };
    timelines
        .iter()
        .enumerate()
        .map(|(index, (timeline, order))| {
            if Some(index) == active {
                return KeyState::Active;
            }
            if let Some(removed) = timeline.removed {
                return retired(removed, false);
            }
            if let Some(expires) = timeline.expires.filter(|&expires| expires <= now) {
                return retired(expires, false);
            }
            let signs_from = timeline.signs_from(policy);
            if signs_from > now {
                return KeyState::Pending { signs_from };
            }
            // Ready but not chosen: a newer ready key took over when it became ready.
            let rank = (signs_from, timeline.created, order);
            let superseded_at = timelines
                .iter()
                .map(|(other, other_order)| (other.signs_from(policy), other.created, other_order))
                .filter(|other| *other > rank && other.0 <= now)
                .map(|other| other.0)
                .min()
                .unwrap_or(signs_from);
            retired(superseded_at, true)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3600;

    fn policy() -> RotationPolicy {
        RotationPolicy {
            propagation: Duration::from_secs(HOUR),
            rotation: Duration::from_secs(10 * HOUR),
            retention: Duration::from_secs(2 * HOUR),
        }
    }

    fn created_at(created: u64) -> Timeline {
        Timeline {
            created: Timestamp(created),
            not_before: Timestamp(0),
            expires: None,
            removed: None,
        }
    }

    fn at(keys: &[Timeline], now: u64) -> Vec<KeyState> {
        let keyed: Vec<_> = keys.iter().enumerate().map(|(i, t)| (*t, i)).collect();
        states(&keyed, &policy(), Timestamp(now))
    }

    #[test]
    fn a_new_key_is_pending_for_the_propagation_period_then_takes_over() {
        let old = created_at(0);
        let new = created_at(100 * HOUR);
        let pending = KeyState::Pending {
            signs_from: Timestamp(101 * HOUR),
        };
        assert_eq!(at(&[old, new], 100 * HOUR), [KeyState::Active, pending]);
        assert_eq!(at(&[old, new], 101 * HOUR - 1), [KeyState::Active, pending]);
        let retired = KeyState::Retired {
            since: Timestamp(101 * HOUR),
            retention_ends: Timestamp(103 * HOUR),
            held_by_source: true,
        };
        assert_eq!(at(&[old, new], 101 * HOUR), [retired, KeyState::Active]);
        assert!(!retired.past_retention(Timestamp(103 * HOUR - 1)));
        assert!(retired.past_retention(Timestamp(103 * HOUR)));
        assert!(
            retired.is_published(Timestamp(1000 * HOUR)),
            "published while the source holds it"
        );
    }

    #[test]
    fn the_order_of_keys_does_not_matter() {
        let old = created_at(0);
        let new = created_at(100 * HOUR);
        for now in [100 * HOUR, 101 * HOUR, 104 * HOUR] {
            let mut forward = at(&[old, new], now);
            let mut backward = at(&[new, old], now);
            backward.reverse();
            assert_eq!(forward, backward, "at {now}");
            forward.clear();
        }
    }

    #[test]
    fn a_lone_new_key_signs_as_a_fallback_rather_than_nothing() {
        let keyed = [(created_at(100 * HOUR), 0)];
        assert_eq!(
            active_index(&keyed, &policy(), Timestamp(100 * HOUR)),
            Some((0, true))
        );
        assert_eq!(
            active_index(&keyed, &policy(), Timestamp(101 * HOUR)),
            Some((0, false))
        );
    }

    #[test]
    fn expired_and_removed_keys_never_sign_and_stay_published_for_retention() {
        let mut expired = created_at(0);
        expired.expires = Some(Timestamp(50 * HOUR));
        let mut removed = created_at(HOUR);
        removed.removed = Some(Timestamp(60 * HOUR));
        let current = created_at(2 * HOUR);
        let states = at(&[expired, removed, current], 61 * HOUR);
        assert_eq!(
            states,
            [
                KeyState::Retired {
                    since: Timestamp(50 * HOUR),
                    retention_ends: Timestamp(52 * HOUR),
                    held_by_source: false,
                },
                KeyState::Retired {
                    since: Timestamp(60 * HOUR),
                    retention_ends: Timestamp(62 * HOUR),
                    held_by_source: false,
                },
                KeyState::Active,
            ]
        );
    }

    #[test]
    fn the_fallback_never_signs_before_a_keys_own_not_before() {
        let mut scheduled = created_at(0);
        scheduled.not_before = Timestamp(50 * HOUR);
        let keyed = [(scheduled, 0)];
        assert_eq!(active_index(&keyed, &policy(), Timestamp(49 * HOUR)), None);
        assert_eq!(
            active_index(&keyed, &policy(), Timestamp(50 * HOUR)),
            Some((0, false))
        );
    }

    #[test]
    fn keys_without_times_are_all_published_and_one_signs() {
        let states = at(&[created_at(0), created_at(0)], 100 * HOUR);
        assert_eq!(states.iter().filter(|s| **s == KeyState::Active).count(), 1);
        assert!(states.iter().all(|s| s.is_published(Timestamp(100 * HOUR))));
    }

    #[test]
    fn an_explicit_not_before_later_than_propagation_wins() {
        let mut scheduled = created_at(10 * HOUR);
        scheduled.not_before = Timestamp(20 * HOUR);
        assert_eq!(scheduled.signs_from(&policy()), Timestamp(20 * HOUR));
        assert_eq!(
            at(&[created_at(0), scheduled], 15 * HOUR)[1],
            KeyState::Pending {
                signs_from: Timestamp(20 * HOUR)
            }
        );
    }

    #[test]
    fn sub_second_periods_are_rounded_up_never_down() {
        // Key times are whole seconds: a period with a fraction must not lose it.
        let policy = RotationPolicy {
            propagation: Duration::from_millis(900),
            rotation: Duration::from_secs(10 * HOUR),
            retention: Duration::from_millis(1500),
        };
        assert_eq!(
            policy.signs_from(Timestamp(100), Timestamp(0)),
            Timestamp(101)
        );
        let keyed = [(created_at(0), 0), (created_at(100), 1)];
        let states = states(&keyed, &policy, Timestamp(101));
        assert_eq!(
            states[0],
            KeyState::Retired {
                since: Timestamp(101),
                retention_ends: Timestamp(103),
                held_by_source: true,
            }
        );
    }

    #[test]
    fn jwks_max_age_leaves_time_for_validators_before_a_key_signs() {
        let policy = policy();
        let max_age = policy.jwks_max_age(Duration::from_secs(60));
        assert_eq!(max_age, Duration::from_secs((HOUR - 60) / 2));
        assert!(max_age + Duration::from_secs(60) < policy.propagation);
    }
}
