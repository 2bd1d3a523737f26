//! Sign-in throttling against the real store, whose own clock stamps every throttle command:
//! the waits here are real (a policy of a few seconds), and a wait's end is read from the
//! answer (`until`) and checked against the clock around the failure that earned it.

use crate::support::*;
use sigil_core::authorize::{LoginThrottle, SignInOutcome, ThrottleReason};
use sigil_core::store::ThrottlePolicy;
use sigil_core::time::Timestamp;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
const ALICE_HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1));

/// The first wait, in seconds; each further failure doubles it, up to four times as long.
const FIRST_DELAY: u64 = 3;

fn policy(free_failures: u32) -> ThrottlePolicy {
    ThrottlePolicy {
        free_failures,
        first_delay_secs: FIRST_DELAY,
        max_delay_secs: 4 * FIRST_DELAY,
        window_secs: 600,
    }
}

async fn throttled_env(account: u32, address: u32) -> Env {
    env_throttled(LoginThrottle {
        per_account: Some(policy(account)),
        per_address: Some(policy(address)),
        trusted_proxies: Vec::new(),
    })
    .await
}

/// Signs in now.
async fn attempt(env: &Env, username: &str, password: &str, address: IpAddr) -> SignInOutcome {
    log_in(env, username, password, address, env.now())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"))
}

/// A sign-in that must fail, and the store's clock before and after it: a wait it earns ends
/// `delay` after a second in that range.
async fn failure(env: &Env, username: &str, address: IpAddr) -> (Timestamp, Timestamp) {
    let before = Timestamp::now();
    let outcome = attempt(env, username, "guess", address).await;
    assert!(matches!(outcome, SignInOutcome::Failed), "{outcome:?}");
    (before, Timestamp::now())
}

/// The throttle's reason and end, if `outcome` is throttled.
fn throttled(outcome: &SignInOutcome) -> Option<(ThrottleReason, Timestamp)> {
    match outcome {
        SignInOutcome::Throttled(t) => Some((t.reason, t.until)),
        _ => None,
    }
}

/// Asserts that `outcome` is throttled for `reason` until `delay` seconds after the failure
/// that happened within `failed`; returns the end of the wait.
#[track_caller]
fn assert_throttled(
    outcome: &SignInOutcome,
    reason: ThrottleReason,
    failed: (Timestamp, Timestamp),
    delay: u64,
) -> Timestamp {
    let Some((got, until)) = throttled(outcome) else {
        panic!("expected a {reason:?} throttle, got {outcome:?}");
    };
    assert_eq!(got, reason, "{outcome:?}");
    let (before, after) = failed;
    assert!(
        (before.as_secs() + delay..=after.as_secs() + delay).contains(&until.as_secs()),
        "waits until {until:?}, {delay} s after the failure in {before:?}..={after:?}"
    );
    until
}

#[tokio::test]
async fn an_account_waits_after_its_free_failures_and_a_correct_password_waits_too() {
    let env = throttled_env(3, 100).await;
    failure(&env, "alice", ATTACKER).await;
    failure(&env, "alice", ATTACKER).await;
    let third = failure(&env, "alice", ATTACKER).await;
    // Locked for the first delay: even the right password, from anywhere, is refused
    // unchecked.
    let mut until = Timestamp(0);
    for (password, address) in [("guess", ATTACKER), (ALICE.password, ALICE_HOME)] {
        let outcome = attempt(&env, "alice", password, address).await;
        until = assert_throttled(&outcome, ThrottleReason::Account, third, FIRST_DELAY);
    }
    // The user name is counted as typed, whatever its case or spaces.
    let outcome = attempt(&env, " ALICE ", "guess", ATTACKER).await;
    assert_throttled(&outcome, ThrottleReason::Account, third, FIRST_DELAY);
    // After the wait, one more failure doubles it.
    wait_until(until).await;
    let fourth = failure(&env, "alice", ATTACKER).await;
    let outcome = attempt(&env, "alice", ALICE.password, ALICE_HOME).await;
    let until = assert_throttled(&outcome, ThrottleReason::Account, fourth, 2 * FIRST_DELAY);
    // After that wait the right password works, and the account starts afresh.
    wait_until(until).await;
    let outcome = attempt(&env, "alice", ALICE.password, ALICE_HOME).await;
    assert!(matches!(outcome, SignInOutcome::SignedIn(_)), "{outcome:?}");
    for _ in 0..3 {
        failure(&env, "alice", ALICE_HOME).await;
    }
}

#[tokio::test]
async fn an_unknown_user_name_is_throttled_like_a_real_one() {
    let env = throttled_env(2, 100).await;
    for name in ["alice", "mallory"] {
        failure(&env, name, ATTACKER).await;
        let second = failure(&env, name, ATTACKER).await;
        let outcome = attempt(&env, name, "guess", ATTACKER).await;
        assert_throttled(&outcome, ThrottleReason::Account, second, FIRST_DELAY);
    }
}

#[tokio::test]
async fn an_address_guessing_across_accounts_waits_and_a_success_does_not_reset_it() {
    let env = throttled_env(100, 4).await;
    for name in ["a", "b", "c"] {
        failure(&env, name, ATTACKER).await;
    }
    // Alice's own success from the same address forgets nothing of the address's count: her
    // attempt, the fourth, reserved the wait a fourth failure earns, and it stays.
    let before = Timestamp::now();
    let outcome = attempt(&env, "alice", ALICE.password, ATTACKER).await;
    assert!(matches!(outcome, SignInOutcome::SignedIn(_)), "{outcome:?}");
    let fourth = (before, Timestamp::now());
    for name in ["d", "e"] {
        let outcome = attempt(&env, name, "guess", ATTACKER).await;
        assert_throttled(&outcome, ThrottleReason::Address, fourth, FIRST_DELAY);
    }
    // Another address is not held back.
    let outcome = attempt(&env, "alice", ALICE.password, ALICE_HOME).await;
    assert!(matches!(outcome, SignInOutcome::SignedIn(_)), "{outcome:?}");
}

#[tokio::test]
async fn attempts_arriving_together_at_the_end_of_a_wait_pass_one_at_a_time() {
    let env = Arc::new(throttled_env(1, 100).await);
    let first = failure(&env, SLOW_USER, ATTACKER).await;
    let outcome = attempt(&env, SLOW_USER, "guess", ATTACKER).await;
    let until = assert_throttled(&outcome, ThrottleReason::Account, first, FIRST_DELAY);
    wait_until(until).await;
    // The wait has ended. Eight attempts arrive together (as on eight pods at once), and each
    // password check takes a second, so all are admitted before any of them is checked: the
    // first reserves the wait its failure would earn, so the other seven are refused before
    // any password is looked at.
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let env = Arc::clone(&env);
        attempts.spawn(async move { attempt(&env, SLOW_USER, "guess", ATTACKER).await });
    }
    let mut checked = 0;
    while let Some(outcome) = attempts.join_next().await {
        let outcome = outcome.unwrap_or_else(|e| panic!("{e:?}"));
        match throttled(&outcome) {
            Some((reason, _)) => assert_eq!(reason, ThrottleReason::Account),
            None => {
                assert!(matches!(outcome, SignInOutcome::Failed), "{outcome:?}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 1);
}

#[tokio::test]
async fn throttling_can_be_turned_off() {
    let env = env_throttled(LoginThrottle::off()).await;
    for _ in 0..50 {
        failure(&env, "alice", ATTACKER).await;
    }
}
