//! Login-failure counters in the state machine: counted atomically, kept with their indexes,
//! swept after their window, and a retried failure counted once.

use super::machine::Machine;
use crate::types::{Command, RequestId, Response};
use sigil_core::handle::GrantKey;
use sigil_core::store::{
    FailureCount, GrantKind, Throttle, ThrottleEvent, ThrottleOutcome, ThrottlePolicy,
};
use sigil_core::time::Timestamp;

const POLICY: ThrottlePolicy = ThrottlePolicy {
    free_failures: 2,
    first_delay_secs: 5,
    max_delay_secs: 20,
    window_secs: 100,
};

fn command(event: ThrottleEvent) -> Command {
    Command::Throttle(Throttle {
        key: GrantKey::derived("login-failures/account", &["alice"]),
        event,
        policy: POLICY,
    })
}

fn outcome(response: Response) -> ThrottleOutcome {
    match response {
        Response::Throttle(outcome) => outcome,
        other => panic!("{other:?}"),
    }
}

async fn fail(m: &mut Machine, now: u64) -> ThrottleOutcome {
    outcome(m.run(now, command(ThrottleEvent::Failure)).await)
}

async fn try_at(m: &mut Machine, now: u64) -> ThrottleOutcome {
    outcome(m.run(now, command(ThrottleEvent::Attempt)).await)
}

#[tokio::test]
async fn failures_are_counted_and_block_attempts_until_the_wait_ends() {
    let mut m = Machine::new();
    assert_eq!(try_at(&mut m, 10).await, ThrottleOutcome::Admitted);
    assert!(
        m.stored().is_empty(),
        "an attempt with nothing to reserve writes nothing"
    );
    fail(&mut m, 10).await;
    let counted = fail(&mut m, 11).await;
    assert_eq!(
        counted,
        ThrottleOutcome::Counted(FailureCount {
            failures: 2,
            blocked_until: Timestamp(16),
        })
    );
    assert_eq!(
        try_at(&mut m, 15).await,
        ThrottleOutcome::Blocked {
            until: Timestamp(16)
        }
    );
    // At the end of the wait, the first attempt is admitted and reserves the next wait.
    assert_eq!(try_at(&mut m, 16).await, ThrottleOutcome::Admitted);
    assert_eq!(
        try_at(&mut m, 16).await,
        ThrottleOutcome::Blocked {
            until: Timestamp(26)
        }
    );
    let stored = m.stored();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].kind, GrantKind::LoginFailures);
    assert_eq!(
        stored[0].expires_at,
        Timestamp(111),
        "a window after the last failure"
    );
}

#[tokio::test]
async fn a_counter_is_swept_after_its_window() {
    let mut m = Machine::new();
    fail(&mut m, 10).await;
    assert_eq!(m.expire(109, 100).await, 0);
    assert_eq!(m.expire(110, 100).await, 1);
    assert!(m.stored().is_empty());
    assert_eq!(
        fail(&mut m, 111).await,
        ThrottleOutcome::Counted(FailureCount {
            failures: 1,
            blocked_until: Timestamp(111),
        })
    );
}

#[tokio::test]
async fn a_retried_failure_is_counted_once() {
    let mut m = Machine::new();
    let id = Some(RequestId([9; 16]));
    let first = outcome(m.run_with(10, id, command(ThrottleEvent::Failure)).await);
    let retry = outcome(m.run_with(12, id, command(ThrottleEvent::Failure)).await);
    assert_eq!(first, retry);
    assert_eq!(
        fail(&mut m, 13).await,
        ThrottleOutcome::Counted(FailureCount {
            failures: 2,
            blocked_until: Timestamp(18),
        })
    );
}
