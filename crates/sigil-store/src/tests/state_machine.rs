//! The state machine's semantics, applied through openraft's `RaftStateMachine` trait.

use super::machine::{Machine, entry};
use super::{all_grants, assert_indexes_consistent, dump, family, grant};
use crate::open_storage;
use crate::types::{Command, Response};
use openraft::storage::RaftStateMachine;
use sigil_core::handle::GrantKey;
use sigil_core::store::{ConsumeOutcome, Grant, PutOutcome, RevokeTarget, Rotation};
use sigil_core::time::Timestamp;

#[tokio::test]
async fn put_twice_is_already_exists_and_keeps_the_first() {
    let mut m = Machine::new();
    let first = grant("h", "app", 100);
    assert_eq!(m.put(10, first.clone()).await, PutOutcome::Stored);
    let second = Grant {
        payload: b"other".to_vec(),
        ..first.clone()
    };
    assert_eq!(m.put(99, second).await, PutOutcome::AlreadyExists);
    assert_eq!(m.stored(), vec![first]);
}

#[tokio::test]
async fn put_over_an_expired_grant_replaces_it_and_its_indexes() {
    let mut m = Machine::new();
    let old = Grant {
        subject: Some("alice".into()),
        family: Some(family(1)),
        ..grant("h", "app1", 100)
    };
    assert_eq!(m.put(10, old).await, PutOutcome::Stored);
    let new = Grant {
        subject: Some("bob".into()),
        family: Some(family(2)),
        ..grant("h", "app2", 300)
    };
    // At `now == expires_at` the old grant is expired.
    assert_eq!(m.put(100, new.clone()).await, PutOutcome::Stored);
    assert_eq!(m.stored(), vec![new]); // and the indexes were checked by `run`
}

#[tokio::test]
async fn consume_once_then_already_consumed() {
    let mut m = Machine::new();
    let g = grant("code", "app", 100);
    m.put(10, g.clone()).await;

    let consumed = Grant {
        consumed_at: Some(Timestamp(20)),
        ..g.clone()
    };
    assert_eq!(
        m.consume(20, g.key).await,
        ConsumeOutcome::Consumed(consumed.clone())
    );
    // The replay sees the first consumption's time, not its own.
    assert_eq!(
        m.consume(30, g.key).await,
        ConsumeOutcome::AlreadyConsumed(consumed.clone())
    );
    assert_eq!(m.stored(), vec![consumed]);
}

#[tokio::test]
async fn consume_missing_or_expired_is_not_found() {
    let mut m = Machine::new();
    assert_eq!(
        m.consume(1, GrantKey::of_handle("nope")).await,
        ConsumeOutcome::NotFound
    );
    let g = grant("code", "app", 100);
    m.put(10, g.clone()).await;
    assert_eq!(m.consume(100, g.key).await, ConsumeOutcome::NotFound);
    m.consume(50, g.key).await;
    // Consumed and then expired: gone as well.
    assert_eq!(m.consume(150, g.key).await, ConsumeOutcome::NotFound);
}

/// a, b: family 1; c: family 2. Subjects alice (a, c), alice2 (b). Clients app1 (a, b), app2 (c),
/// app3 (d, no subject or family).
async fn four_grants(m: &mut Machine) -> [Grant; 4] {
    let a = Grant {
        subject: Some("alice".into()),
        family: Some(family(1)),
        ..grant("a", "app1", 1000)
    };
    let b = Grant {
        subject: Some("alice2".into()),
        family: Some(family(1)),
        ..grant("b", "app1", 1000)
    };
    let c = Grant {
        subject: Some("alice".into()),
        family: Some(family(2)),
        ..grant("c", "app2", 1000)
    };
    let d = grant("d", "app3", 1000);
    for g in [&a, &b, &c, &d] {
        assert_eq!(m.put(1, g.clone()).await, PutOutcome::Stored);
    }
    [a, b, c, d]
}

#[tokio::test]
async fn revoke_by_family_removes_exactly_that_family() {
    let mut m = Machine::new();
    four_grants(&mut m).await;
    assert_eq!(m.revoke(RevokeTarget::Family(family(1))).await, 2);
    assert_eq!(m.stored_payloads(), vec![b"c".to_vec(), b"d".to_vec()]);
    assert_eq!(m.revoke(RevokeTarget::Family(family(1))).await, 0);
}

#[tokio::test]
async fn revoke_by_subject_does_not_touch_longer_subjects() {
    let mut m = Machine::new();
    four_grants(&mut m).await;
    assert_eq!(m.revoke(RevokeTarget::Subject("alice".into())).await, 2);
    assert_eq!(m.stored_payloads(), vec![b"b".to_vec(), b"d".to_vec()]);
}

#[tokio::test]
async fn revoke_by_client_and_by_grant() {
    let mut m = Machine::new();
    let [_, _, c, _] = four_grants(&mut m).await;
    assert_eq!(m.revoke(RevokeTarget::Client("app1".into())).await, 2);
    assert_eq!(m.stored_payloads(), vec![b"c".to_vec(), b"d".to_vec()]);
    assert_eq!(m.revoke(RevokeTarget::Grant(c.key)).await, 1);
    assert_eq!(m.revoke(RevokeTarget::Grant(c.key)).await, 0);
    assert_eq!(m.stored_payloads(), vec![b"d".to_vec()]);
    assert_eq!(m.revoke(RevokeTarget::Client("app3".into())).await, 1);
    assert!(m.stored().is_empty());
}

#[tokio::test]
async fn expire_removes_only_expired_grants_earliest_first() {
    let mut m = Machine::new();
    for (handle, expires_at) in [("t10", 10), ("t20", 20), ("t30", 30), ("t40", 40)] {
        m.put(1, grant(handle, "app", expires_at)).await;
    }
    assert_eq!(m.expire(20, 100).await, 2, "expires_at <= now");
    assert_eq!(m.stored_payloads(), vec![b"t30".to_vec(), b"t40".to_vec()]);
    assert_eq!(m.expire(100, 1).await, 1);
    assert_eq!(m.stored_payloads(), vec![b"t40".to_vec()]);
    assert_eq!(m.expire(100, 1).await, 1);
    assert_eq!(m.expire(100, 1).await, 0);
}

/// A fixed pseudo-random workload touching every command.
fn workload() -> Vec<(u64, Command)> {
    let mut x: u64 = 0x5eed;
    let mut next = move |n: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % n
    };
    let mut out = Vec::new();
    for step in 0..400u64 {
        let now = step;
        let handle = format!("h{}", next(60));
        let command = match next(10) {
            0..=4 => Command::Put {
                grant: Grant {
                    subject: Some(format!("user{}", next(5))),
                    family: Some(family(next(4) as u8)),
                    ..grant(&handle, &format!("app{}", next(3)), now + 1 + next(80))
                },
            },
            5 | 6 => Command::Consume {
                key: GrantKey::of_handle(&handle),
            },
            7 => Command::Revoke {
                target: match next(4) {
                    0 => RevokeTarget::Grant(GrantKey::of_handle(&handle)),
                    1 => RevokeTarget::Family(family(next(4) as u8)),
                    2 => RevokeTarget::Subject(format!("user{}", next(5))),
                    _ => RevokeTarget::Client(format!("app{}", next(3))),
                },
            },
            8 => Command::Rotate(Rotation {
                presented: GrantKey::of_handle(&handle),
                successor: Grant {
                    family: Some(family(next(4) as u8)),
                    ..grant(&format!("h{}", next(60)), "app0", now + 1 + next(80))
                },
                grace_seconds: next(3),
            }),
            _ => Command::Expire { limit: next(5) },
        };
        out.push((now, command));
    }
    out
}

#[tokio::test]
async fn apply_is_deterministic() {
    let commands = workload();

    // One machine applies entry by entry, the other in batches of seven.
    let mut one = Machine::new();
    let mut one_responses = Vec::new();
    for (now, command) in commands.clone() {
        one_responses.push(one.run(now, command).await);
    }

    let mut two = Machine::new();
    let entries: Vec<_> = commands
        .into_iter()
        .enumerate()
        .map(|(i, (now, command))| entry(i as u64 + 1, now, command))
        .collect();
    let mut two_responses = Vec::new();
    for chunk in entries.chunks(7) {
        for response in two.sm.apply(chunk.to_vec()).await.unwrap() {
            match response {
                Response::Batch(mut one) if one.len() == 1 => two_responses.push(one.remove(0)),
                other => panic!("{other:?}"),
            }
        }
    }

    assert_eq!(one_responses, two_responses);
    assert_eq!(dump(&one.sm.trees()), dump(&two.sm.trees()));
    assert!(
        !one.stored().is_empty(),
        "the workload leaves grants behind"
    );
    assert!(
        one_responses
            .iter()
            .any(|r| matches!(r, Response::Consume(ConsumeOutcome::AlreadyConsumed(_)))),
        "the workload exercises replays"
    );
    assert_indexes_consistent(&two.sm.trees());
}

#[tokio::test]
async fn installing_a_snapshot_replaces_all_state() {
    let mut source = Machine::new();
    four_grants(&mut source).await;
    let snapshot = source.snapshot().await;

    let mut target = Machine::new();
    target.put(1, grant("stale", "old-app", 5000)).await;
    target
        .sm
        .install_snapshot(&snapshot.meta, snapshot.snapshot)
        .await
        .unwrap();

    // Grants, indexes, rotations and request ids are identical; the applied state is compared through the trait
    // (the target also records the empty membership explicitly).
    let state = |d: Vec<Vec<(Vec<u8>, Vec<u8>)>>| d[..d.len() - 1].to_vec();
    assert_eq!(
        state(dump(&source.sm.trees())),
        state(dump(&target.sm.trees()))
    );
    assert_indexes_consistent(&target.sm.trees());
    assert_eq!(
        target.sm.applied_state().await.unwrap(),
        source.sm.applied_state().await.unwrap()
    );
}

#[tokio::test]
async fn applied_state_and_grants_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let (applied, grants) = {
        let (_, mut sm) = open_storage(dir.path()).unwrap();
        sm.apply([entry(
            1,
            5,
            Command::Put {
                grant: grant("g", "app", 50),
            },
        )])
        .await
        .unwrap();
        (sm.applied_state().await.unwrap(), all_grants(&sm.trees()))
    };
    let (_, mut sm) = open_storage(dir.path()).unwrap();
    assert_eq!(sm.applied_state().await.unwrap(), applied);
    assert_eq!(all_grants(&sm.trees()), grants);
}
