//! Refresh-token rotation: grace, reuse detection, and its edge cases.

use super::machine::Machine;
use super::{family, grant};
use crate::types::{Command, Proposal, Response};
use sigil_core::handle::GrantKey;
use sigil_core::store::{Grant, GrantKind, RevokeTarget, RotateOutcome, Rotation};
use sigil_core::time::Timestamp;

pub(super) fn refresh(handle: &str, fam: u8) -> Grant {
    Grant {
        kind: GrantKind::RefreshToken,
        subject: Some("alice".into()),
        family: Some(family(fam)),
        ..grant(handle, "app", 10_000)
    }
}

pub(super) fn rotation(presented: &str, successor: &str, grace_seconds: u64) -> Rotation {
    Rotation {
        presented: GrantKey::of_handle(presented),
        successor: refresh(successor, 1),
        grace_seconds,
    }
}

/// A machine with refresh token `r0` (family 1) and an unrelated `x` in family 2.
async fn setup() -> Machine {
    let mut m = Machine::new();
    m.put(1, refresh("r0", 1)).await;
    m.put(1, refresh("x", 2)).await;
    m
}

fn consumed_at(g: Grant, at: u64) -> Grant {
    Grant {
        consumed_at: Some(Timestamp(at)),
        ..g
    }
}

#[tokio::test]
async fn rotate_consumes_the_presented_token_and_stores_the_successor() {
    let mut m = setup().await;
    assert_eq!(
        m.rotate(10, rotation("r0", "r1", 30)).await,
        RotateOutcome::Rotated {
            previous: consumed_at(refresh("r0", 1), 10)
        }
    );
    assert_eq!(
        m.stored_payloads(),
        vec![b"r0".to_vec(), b"r1".to_vec(), b"x".to_vec()]
    );
    // The successor rotates in turn.
    assert!(matches!(
        m.rotate(11, rotation("r1", "r2", 30)).await,
        RotateOutcome::Rotated { .. }
    ));
}

#[tokio::test]
async fn a_second_rotate_within_grace_returns_the_same_successor() {
    let mut m = setup().await;
    m.rotate(10, rotation("r0", "r1", 30)).await;
    let before = m.stored();
    assert_eq!(
        m.rotate(39, rotation("r0", "r1-other", 30)).await,
        RotateOutcome::WithinGrace {
            previous: consumed_at(refresh("r0", 1), 10),
            successor: refresh("r1", 1),
        }
    );
    assert_eq!(m.stored(), before, "nothing changed");
}

#[tokio::test]
async fn after_grace_reuse_revokes_the_family_only() {
    let mut m = setup().await;
    m.rotate(10, rotation("r0", "r1", 30)).await;
    assert_eq!(
        m.rotate(40, rotation("r0", "r1-other", 30)).await,
        RotateOutcome::ReuseDetected {
            previous: consumed_at(refresh("r0", 1), 10),
            revoked: 2,
        }
    );
    assert_eq!(m.stored_payloads(), vec![b"x".to_vec()]);
}

#[tokio::test]
async fn a_revoked_or_expired_successor_makes_reuse_within_grace() {
    let mut m = setup().await;
    m.rotate(10, rotation("r0", "r1", 30)).await;
    m.revoke(RevokeTarget::Grant(GrantKey::of_handle("r1")))
        .await;
    assert!(matches!(
        m.rotate(11, rotation("r0", "r1b", 30)).await,
        RotateOutcome::ReuseDetected { revoked: 1, .. }
    ));

    let mut m = setup().await;
    let short = Rotation {
        successor: Grant {
            expires_at: Timestamp(15),
            ..refresh("r1", 1)
        },
        ..rotation("r0", "r1", 30)
    };
    m.rotate(10, short).await;
    assert!(matches!(
        m.rotate(15, rotation("r0", "r1b", 30)).await,
        // The expired, unswept successor is removed with its family.
        RotateOutcome::ReuseDetected { revoked: 2, .. }
    ));
    assert_eq!(m.stored_payloads(), vec![b"x".to_vec()]);
}

#[tokio::test]
async fn successor_exists_and_not_found_change_nothing() {
    let mut m = setup().await;
    let before = m.stored();
    assert_eq!(
        m.rotate(10, rotation("r0", "x", 30)).await,
        RotateOutcome::SuccessorExists
    );
    assert_eq!(
        m.rotate(10, rotation("nope", "r1", 30)).await,
        RotateOutcome::NotFound
    );
    assert_eq!(m.stored(), before);
    // Expired presented token: not found.
    assert_eq!(
        m.rotate(10_000, rotation("r0", "r1", 30)).await,
        RotateOutcome::NotFound
    );
}

#[tokio::test]
async fn a_consumed_token_without_rotation_is_reuse() {
    let mut m = setup().await;
    m.consume(5, GrantKey::of_handle("r0")).await;
    assert!(matches!(
        m.rotate(6, rotation("r0", "r1", 30)).await,
        RotateOutcome::ReuseDetected { revoked: 1, .. }
    ));
}

async fn two_rotates_in_one_batch(grace: u64) -> Vec<Response> {
    let mut m = setup().await;
    let proposal = |successor: &str| Proposal {
        id: None,
        command: Command::Rotate(rotation("r0", successor, grace)),
    };
    m.run_batch(10, vec![proposal("r1"), proposal("r1b")]).await
}

#[tokio::test]
async fn two_rotates_in_one_batch_see_each_other() {
    let with_grace = two_rotates_in_one_batch(30).await;
    assert!(matches!(
        with_grace.as_slice(),
        [
            Response::Rotate(RotateOutcome::Rotated { .. }),
            Response::Rotate(RotateOutcome::WithinGrace { successor, .. }),
        ] if *successor == refresh("r1", 1)
    ));
    let without = two_rotates_in_one_batch(0).await;
    assert!(matches!(
        without.as_slice(),
        [
            Response::Rotate(RotateOutcome::Rotated { .. }),
            Response::Rotate(RotateOutcome::ReuseDetected { revoked: 2, .. }),
        ]
    ));
}
