//! Sign-in throttling, against password guessing: failed sign-ins are counted per account
//! (the user name as typed, case and surrounding spaces ignored) and per client address, in
//! the grant store ([`FailureCount`]), so an attacker who spreads guesses over every pod meets
//! the same counts on each. Past a few free failures, each further attempt must wait, twice
//! as long after every failure; an attempt that comes too early is refused before the
//! password is looked at, so it costs no hashing and tells nothing, not even whether the
//! password was right (otherwise the refusal itself would be an oracle).
//!
//! The counts are keyed by user name whether or not the account exists, so throttling does not
//! reveal which accounts exist. A success forgets the account's failures, never the address's
//! (else one valid account would reset the address for guesses at all the others).

use super::authorizer::Authorizer;
use super::client_address::{AddressRange, throttle_address};
use crate::error::ProtocolError;
use crate::handle::GrantKey;
use crate::store::{
    FailureCount, RevokeTarget, Throttle, ThrottleEvent, ThrottleOutcome, ThrottlePolicy,
};
use crate::time::Timestamp;
use std::net::IpAddr;

/// How sign-in failures are throttled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Failures per account; `None` turns this count off.
    pub per_account: Option<ThrottlePolicy>,
    /// Failures per client address; `None` turns this count off.
    pub per_address: Option<ThrottlePolicy>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (see
    /// [`client_address`](super::client_address::client_address)).
    pub trusted_proxies: Vec<AddressRange>,
}

impl LoginThrottle {
    /// Every count off.
    pub fn off() -> Self {
        Self {
            per_account: None,
            per_address: None,
            trusted_proxies: Vec::new(),
        }
    }

    /// The defaults: per account, 5 free failures, then waits from 2 s doubling to 15 min;
    /// per address, 100 free failures (an office behind one NAT shares it), then waits from 1 s doubling to 15 min; counts kept
    /// 15 min after the last failure.
    pub const DEFAULT_PER_ACCOUNT: ThrottlePolicy = ThrottlePolicy {
        free_failures: 5,
        first_delay_secs: 2,
        max_delay_secs: 900,
        window_secs: 900,
    };

    /// See [`LoginThrottle::DEFAULT_PER_ACCOUNT`].
    pub const DEFAULT_PER_ADDRESS: ThrottlePolicy = ThrottlePolicy {
        free_failures: 100,
        first_delay_secs: 1,
        max_delay_secs: 900,
        window_secs: 900,
    };

    /// The counters an attempt by `username` from `address` is held to.
    fn counters(&self, username: &str, address: IpAddr) -> Vec<Counter> {
        let mut counters = Vec::with_capacity(2);
        if let Some(policy) = self.per_account {
            let name = username.trim().to_lowercase();
            counters.push(Counter {
                reason: ThrottleReason::Account,
                key: GrantKey::derived("login-failures/account", &[&name]),
                policy,
            });
        }
        if let Some(policy) = self.per_address {
            counters.push(Counter {
                reason: ThrottleReason::Address,
                key: GrantKey::derived("login-failures/address", &[&throttle_address(address)]),
                policy,
            });
        }
        counters
    }
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            per_account: Some(Self::DEFAULT_PER_ACCOUNT),
            per_address: Some(Self::DEFAULT_PER_ADDRESS),
            trusted_proxies: Vec::new(),
        }
    }
}

/// Which count refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleReason {
    /// Too many failures for this user name.
    Account,
    /// Too many failures from this client address.
    Address,
}

impl ThrottleReason {
    /// `account` or `address` (for metrics and the audit log).
    pub fn as_str(self) -> &'static str {
        match self {
            ThrottleReason::Account => "account",
            ThrottleReason::Address => "address",
        }
    }
}

/// An attempt refused because it came too early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Which count refused it.
    pub reason: ThrottleReason,
    /// When the next attempt is admitted.
    pub until: Timestamp,
}

impl Throttled {
    /// Seconds to wait from `now` (`Retry-After`), at least 1.
    pub fn retry_after(&self, now: Timestamp) -> u64 {
        self.until.as_secs().saturating_sub(now.as_secs()).max(1)
    }
}

/// One counter an attempt is held to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Counter {
    reason: ThrottleReason,
    key: GrantKey,
    policy: ThrottlePolicy,
}

/// The counters of an admitted attempt, to count its failure or forget the account's.
#[derive(Debug)]
pub(super) struct Admission {
    counters: Vec<Counter>,
    /// Whether the account's counter holds anything a success should forget.
    account_counted: bool,
}

impl Authorizer {
    /// Admits an attempt by `username` from `address`, or says until when it must wait. Reads
    /// the counters first (a refused attempt writes nothing); only an attempt that would earn
    /// a wait by failing reserves that wait in one atomic command, so that attempts arriving
    /// together on several pods cannot all pass.
    pub(super) async fn admit(
        &self,
        username: &str,
        address: IpAddr,
        now: Timestamp,
    ) -> Result<Result<Admission, Throttled>, ProtocolError> {
        let counters = self
            .context
            .sessions
            .login_throttle
            .counters(username, address);
        let mut counts = Vec::with_capacity(counters.len());
        for counter in &counters {
            let grant = self.context.store.get(&counter.key).await?;
            let count = grant.as_ref().and_then(FailureCount::of);
            if let Some(count) = count.filter(|count| count.blocks(now)) {
                let reason = counter.reason;
                let until = count.blocked_until;
                return Ok(Err(Throttled { reason, until }));
            }
            counts.push(count);
        }
        let mut account_counted = false;
        for (counter, count) in counters.iter().zip(&counts) {
            let failures = count.map_or(0, |count| count.failures);
            let reserves = counter.policy.delay_after(failures.saturating_add(1)) > 0;
            if reserves {
                let command = counter.command(ThrottleEvent::Attempt);
                if let ThrottleOutcome::Blocked { until } =
                    self.context.store.throttle(command).await?
                {
                    let reason = counter.reason;
                    return Ok(Err(Throttled { reason, until }));
                }
            }
            if counter.reason == ThrottleReason::Account {
                account_counted = count.is_some() || reserves;
            }
        }
        Ok(Ok(Admission {
            counters,
            account_counted,
        }))
    }

    /// Counts the failure of an admitted attempt under each of its counters.
    pub(super) async fn count_failure(&self, admission: &Admission) -> Result<(), ProtocolError> {
        for counter in &admission.counters {
            self.context
                .store
                .throttle(counter.command(ThrottleEvent::Failure))
                .await?;
        }
        Ok(())
    }

    /// Forgets the account's failures after a success.
    pub(super) async fn forget_failures(&self, admission: &Admission) -> Result<(), ProtocolError> {
        if !admission.account_counted {
            return Ok(());
        }
        for counter in &admission.counters {
            if counter.reason == ThrottleReason::Account {
                self.context
                    .store
                    .revoke(RevokeTarget::Grant(counter.key))
                    .await?;
            }
        }
        Ok(())
    }
}

impl Counter {
    fn command(&self, event: ThrottleEvent) -> Throttle {
        Throttle {
            key: self.key,
            event,
            policy: self.policy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorize::{LoginAttempt, SignInOutcome};
    use crate::endpoint::Services;
    use crate::testing::{MemoryStore, NOW, SECRET, services_with};
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
    const ALICE_HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1));

    fn policy(free_failures: u32) -> ThrottlePolicy {
        ThrottlePolicy {
            free_failures,
            first_delay_secs: 10,
            max_delay_secs: 40,
            window_secs: 600,
        }
    }

    fn throttled_services(account: u32, address: u32) -> (Arc<MemoryStore>, Services) {
        services_with(LoginThrottle {
            per_account: Some(policy(account)),
            per_address: Some(policy(address)),
            trusted_proxies: Vec::new(),
        })
    }

    /// Signs in at `at` (the store's clock too).
    async fn attempt(
        (store, services): &(Arc<MemoryStore>, Services),
        username: &str,
        password: &str,
        address: IpAddr,
        at: u64,
    ) -> SignInOutcome {
        let now = Timestamp(NOW.0 + at);
        store.set_now(now);
        let attempt = LoginAttempt {
            username,
            password,
            address,
        };
        services
            .authorizer
            .sign_in(&attempt, now)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn throttled(outcome: &SignInOutcome) -> Option<(ThrottleReason, u64)> {
        match outcome {
            SignInOutcome::Throttled(t) => Some((t.reason, t.until.as_secs() - NOW.0)),
            _ => None,
        }
    }

    #[tokio::test]
    async fn an_account_waits_after_its_free_failures_and_a_correct_password_waits_too() {
        let setup = throttled_services(3, 100);
        for _ in 0..3 {
            let outcome = attempt(&setup, "alice", "guess", ATTACKER, 0).await;
            assert!(matches!(outcome, SignInOutcome::Failed), "{outcome:?}");
        }
        // Locked for 10 s: even the right password, from anywhere, is refused unchecked.
        for (password, address) in [("guess", ATTACKER), (SECRET, ALICE_HOME)] {
            let outcome = attempt(&setup, "alice", password, address, 5).await;
            assert_eq!(throttled(&outcome), Some((ThrottleReason::Account, 10)));
        }
        // The user name is counted as typed, whatever its case or spaces.
        let outcome = attempt(&setup, " ALICE ", "guess", ATTACKER, 5).await;
        assert_eq!(throttled(&outcome), Some((ThrottleReason::Account, 10)));
        // After the wait, one more failure doubles it.
        let outcome = attempt(&setup, "alice", "guess", ATTACKER, 10).await;
        assert!(matches!(outcome, SignInOutcome::Failed), "{outcome:?}");
        let outcome = attempt(&setup, "alice", SECRET, ALICE_HOME, 29).await;
        assert_eq!(throttled(&outcome), Some((ThrottleReason::Account, 30)));
        // After that wait the right password works, and the account starts afresh.
        let outcome = attempt(&setup, "alice", SECRET, ALICE_HOME, 30).await;
        assert!(matches!(outcome, SignInOutcome::SignedIn(_)), "{outcome:?}");
        for _ in 0..3 {
            let outcome = attempt(&setup, "alice", "guess", ALICE_HOME, 31).await;
            assert!(matches!(outcome, SignInOutcome::Failed), "{outcome:?}");
        }
    }

    #[tokio::test]
    async fn an_unknown_user_name_is_throttled_like_a_real_one() {
        let setup = throttled_services(2, 100);
        for name in ["alice", "mallory"] {
            for _ in 0..2 {
                attempt(&setup, name, "guess", ATTACKER, 0).await;
            }
            let outcome = attempt(&setup, name, "guess", ATTACKER, 1).await;
            assert_eq!(
                throttled(&outcome),
                Some((ThrottleReason::Account, 10)),
                "{name}"
            );
        }
    }

    #[tokio::test]
    async fn an_address_guessing_across_accounts_waits_and_a_success_does_not_reset_it() {
        let setup = throttled_services(100, 4);
        for name in ["a", "b", "c"] {
            attempt(&setup, name, "guess", ATTACKER, 0).await;
        }
        // Alice's own success from the same address forgets nothing of the address's count.
        let outcome = attempt(&setup, "alice", SECRET, ATTACKER, 0).await;
        assert!(matches!(outcome, SignInOutcome::SignedIn(_)), "{outcome:?}");
        attempt(&setup, "d", "guess", ATTACKER, 0).await;
        let outcome = attempt(&setup, "e", "guess", ATTACKER, 1).await;
        assert_eq!(throttled(&outcome), Some((ThrottleReason::Address, 10)));
        // Another address is not held back.
        let outcome = attempt(&setup, "alice", SECRET, ALICE_HOME, 1).await;
        assert!(matches!(outcome, SignInOutcome::SignedIn(_)), "{outcome:?}");
    }

    #[tokio::test]
    async fn attempts_arriving_together_at_the_end_of_a_wait_pass_one_at_a_time() {
        let setup = throttled_services(1, 100);
        attempt(&setup, "alice", "guess", ATTACKER, 0).await;
        // The wait ends at +10. Eight attempts admitted before any of them is checked (as on
        // eight pods at once): the first reserves the wait its failure would earn, so the
        // other seven are refused before any password is looked at.
        let (store, services) = &setup;
        let now = Timestamp(NOW.0 + 10);
        store.set_now(now);
        let mut admitted = 0;
        for _ in 0..8 {
            match services.authorizer.admit("alice", ATTACKER, now).await {
                Ok(Ok(_)) => admitted += 1,
                Ok(Err(throttled)) => assert_eq!(throttled.reason, ThrottleReason::Account),
                Err(error) => panic!("{error:?}"),
            }
        }
        assert_eq!(admitted, 1);
    }

    #[tokio::test]
    async fn throttling_can_be_turned_off() {
        let setup = services_with(LoginThrottle::off());
        for _ in 0..50 {
            let outcome = attempt(&setup, "alice", "guess", ATTACKER, 0).await;
            assert!(matches!(outcome, SignInOutcome::Failed), "{outcome:?}");
        }
    }
}
