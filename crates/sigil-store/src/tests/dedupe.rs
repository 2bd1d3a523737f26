//! Request ids: a retried proposal returns its first response and applies once.

use super::grant;
use super::machine::Machine;
use crate::types::{Command, DEDUPE_WINDOW_SECS, Proposal, RequestId, Response};
use openraft::storage::RaftStateMachine;
use sigil_core::store::{ConsumeOutcome, Grant, PutOutcome, RevokeTarget, RotateOutcome};
use sigil_core::time::Timestamp;

const ID: Option<RequestId> = Some(RequestId([1; 16]));
const OTHER: Option<RequestId> = Some(RequestId([2; 16]));

#[tokio::test]
async fn a_retried_consume_returns_the_first_outcome() {
    let mut m = Machine::new();
    let g = grant("code", "app", 10_000);
    m.put(1, g.clone()).await;
    let consumed = ConsumeOutcome::Consumed(Grant {
        consumed_at: Some(Timestamp(5)),
        ..g.clone()
    });
    let first = m.run_with(5, ID, Command::Consume { key: g.key }).await;
    assert_eq!(first, Response::Consume(consumed.clone()));
    // The retry (even at a later time) sees its own success, not AlreadyConsumed.
    let retry = m.run_with(9, ID, Command::Consume { key: g.key }).await;
    assert_eq!(retry, first);
    // Another request id is a different request.
    assert!(matches!(
        m.run_with(9, OTHER, Command::Consume { key: g.key }).await,
        Response::Consume(ConsumeOutcome::AlreadyConsumed(_))
    ));
}

#[tokio::test]
async fn a_retried_rotate_returns_the_first_outcome_and_is_no_reuse() {
    use super::rotate::{refresh, rotation};
    let mut m = Machine::new();
    m.put(1, refresh("r0", 1)).await;
    let rotate = Command::Rotate(rotation("r0", "r1", 30));
    let first = m.run_with(10, ID, rotate.clone()).await;
    assert!(
        matches!(first, Response::Rotate(RotateOutcome::Rotated { .. })),
        "{first:?}"
    );
    // Retried after the grace period (the client's first attempt timed out, the leader
    // changed): the first outcome again, not reuse, and the family keeps its successor.
    assert_eq!(m.run_with(100, ID, rotate.clone()).await, first);
    assert_eq!(m.stored_payloads(), vec![b"r0".to_vec(), b"r1".to_vec()]);
    // Another request presenting the same token is reuse.
    assert!(matches!(
        m.run_with(100, OTHER, rotate).await,
        Response::Rotate(RotateOutcome::ReuseDetected { .. })
    ));
}

#[tokio::test]
async fn a_retried_revoke_applies_once() {
    let mut m = Machine::new();
    m.put(1, grant("a", "app", 10_000)).await;
    let revoke = Command::Revoke {
        target: RevokeTarget::Client("app".into()),
    };
    assert_eq!(
        m.run_with(2, ID, revoke.clone()).await,
        Response::Revoked(1)
    );
    // A grant stored after the first revoke survives the retry.
    m.put(3, grant("b", "app", 10_000)).await;
    assert_eq!(
        m.run_with(4, ID, revoke.clone()).await,
        Response::Revoked(1)
    );
    assert_eq!(m.stored_payloads(), vec![b"b".to_vec()]);
    // The same id twice in one batch is one request too.
    let both = m
        .run_batch(
            5,
            vec![
                Proposal {
                    id: OTHER,
                    command: revoke.clone(),
                },
                Proposal {
                    id: OTHER,
                    command: revoke.clone(),
                },
            ],
        )
        .await;
    assert_eq!(both, vec![Response::Revoked(1), Response::Revoked(1)]);
}

#[tokio::test]
async fn ids_are_forgotten_by_the_sweep_after_the_window() {
    let mut m = Machine::new();
    let g = grant("g", "app", 1_000_000);
    let put = Command::Put { grant: g.clone() };
    assert_eq!(
        m.run_with(100, ID, put.clone()).await,
        Response::Put(PutOutcome::Stored)
    );
    // Within the window a sweep keeps the id.
    assert_eq!(m.expire(100 + DEDUPE_WINDOW_SECS - 1, 10).await, 0);
    assert_eq!(m.sm_requests(), 1);
    assert_eq!(
        m.run_with(200, ID, put.clone()).await,
        Response::Put(PutOutcome::Stored)
    );
    // Once the window has passed, the sweep forgets it: the retry is a new request.
    assert_eq!(m.expire(100 + DEDUPE_WINDOW_SECS, 10).await, 1);
    assert_eq!(m.sm_requests(), 0);
    assert_eq!(
        m.run_with(100 + DEDUPE_WINDOW_SECS, ID, put).await,
        Response::Put(PutOutcome::AlreadyExists)
    );
}

#[tokio::test]
async fn snapshots_carry_remembered_ids() {
    let mut source = Machine::new();
    let g = grant("code", "app", 10_000);
    source.put(1, g.clone()).await;
    let first = source
        .run_with(2, ID, Command::Consume { key: g.key })
        .await;
    let snapshot = source.snapshot().await;

    let mut follower = Machine::new();
    follower
        .sm
        .install_snapshot(&snapshot.meta, snapshot.snapshot)
        .await
        .unwrap();
    follower.skip_to(source.next());
    assert_eq!(follower.sm_requests(), 1);
    assert_eq!(
        follower
            .run_with(3, ID, Command::Consume { key: g.key })
            .await,
        first
    );
}
