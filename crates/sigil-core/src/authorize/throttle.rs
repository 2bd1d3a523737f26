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
