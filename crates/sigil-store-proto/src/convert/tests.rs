//! Round trips between the core's store types and their protobuf messages, and the refusal
//! of malformed messages (`InvalidArgument`).

use super::*;
use tonic::Code;

fn grant() -> Grant {
    Grant {
        key: GrantKey::derived("test", &["a"]),
        kind: GrantKind::RefreshToken,
        client_id: "app".to_owned(),
        subject: Some("alice".to_owned()),
        family: Some(FamilyId::from_bytes([7; 16])),
        issued_at: Timestamp(100),
        expires_at: Timestamp(200),
        consumed_at: Some(Timestamp(150)),
        payload: b"claims".to_vec(),
    }
}

fn successor() -> Grant {
    Grant {
        key: GrantKey::derived("test", &["b"]),
        consumed_at: None,
        subject: None,
        family: None,
        ..grant()
    }
}

#[test]
fn every_grant_kind_survives_the_round_trip() {
    for kind in [
        GrantKind::ReferenceToken,
        GrantKind::RevokedJwt,
        GrantKind::ClientAssertion,
        GrantKind::AuthorizationCode,
        GrantKind::RefreshToken,
        GrantKind::Session,
        GrantKind::Consent,
        GrantKind::LoginFailures,
    ] {
        let original = Grant { kind, ..grant() };
        let back = Grant::try_from(wire::Grant::try_from(original.clone()).unwrap()).unwrap();
        assert_eq!(back, original);
    }
    let bare = successor();
    let back = Grant::try_from(wire::Grant::try_from(bare.clone()).unwrap()).unwrap();
    assert_eq!(back, bare);
}

#[test]
fn malformed_grants_are_errors() {
    let good = wire::Grant::try_from(grant()).unwrap();
    let mut short_key = good.clone();
    short_key.key.truncate(31);
    assert!(Grant::try_from(short_key).is_err());
    let mut bad_kind = good.clone();
    bad_kind.kind = 99;
    assert!(Grant::try_from(bad_kind).is_err());
    let mut unspecified = good.clone();
    unspecified.kind = 0;
    assert!(Grant::try_from(unspecified).is_err());
    let mut bad_family = good;
    bad_family.family = Some(vec![1; 15]);
    assert!(Grant::try_from(bad_family).is_err());
}

#[test]
fn revoke_targets_survive_the_round_trip() {
    for target in [
        RevokeTarget::Grant(GrantKey::derived("k", &[])),
        RevokeTarget::Family(FamilyId::from_bytes([3; 16])),
        RevokeTarget::Subject("alice".to_owned()),
        RevokeTarget::Client("app".to_owned()),
    ] {
        let on_wire = wire::revoke_request::Target::try_from(target.clone()).unwrap();
        assert_eq!(target_from_wire(Some(on_wire)).unwrap(), target);
    }
    assert!(target_from_wire(None).is_err());
    let short = wire::revoke_request::Target::Grant(vec![0; 3]);
    assert!(target_from_wire(Some(short)).is_err());
}

#[test]
fn outcomes_survive_the_round_trip() {
    for outcome in [PutOutcome::Stored, PutOutcome::AlreadyExists] {
        assert_eq!(
            PutOutcome::try_from(wire::PutResponse::from(outcome)).unwrap(),
            outcome
        );
    }
    assert!(PutOutcome::try_from(wire::PutResponse { outcome: 0 }).is_err());
    for outcome in [
        ConsumeOutcome::Consumed(grant()),
        ConsumeOutcome::AlreadyConsumed(grant()),
        ConsumeOutcome::NotFound,
    ] {
        let on_wire = wire::ConsumeResponse::try_from(outcome.clone()).unwrap();
        assert_eq!(ConsumeOutcome::try_from(on_wire).unwrap(), outcome);
    }
    assert!(ConsumeOutcome::try_from(wire::ConsumeResponse { outcome: None }).is_err());
}

#[test]
fn rotations_survive_the_round_trip() {
    let rotation = Rotation {
        presented: grant().key,
        successor: successor(),
        grace_seconds: 30,
    };
    let request = rotate_request([9; 16], rotation.clone()).unwrap();
    assert_eq!(request_id_from_wire(&request.request_id).unwrap(), [9; 16]);
    assert_eq!(Rotation::try_from(request.clone()).unwrap(), rotation);
    let mut without_successor = request;
    without_successor.successor = None;
    assert!(Rotation::try_from(without_successor).is_err());

    for outcome in [
        RotateOutcome::Rotated { previous: grant() },
        RotateOutcome::WithinGrace {
            previous: grant(),
            successor: successor(),
        },
        RotateOutcome::ReuseDetected {
            previous: grant(),
            revoked: 4,
        },
        RotateOutcome::SuccessorExists,
        RotateOutcome::NotFound,
    ] {
        let on_wire = wire::RotateResponse::try_from(outcome.clone()).unwrap();
        assert_eq!(RotateOutcome::try_from(on_wire).unwrap(), outcome);
    }
    assert!(RotateOutcome::try_from(wire::RotateResponse { outcome: None }).is_err());
    let missing = wire::RotateResponse {
        outcome: Some(wire::rotate_response::Outcome::Rotated(wire::Rotated {
            previous: None,
        })),
    };
    assert!(RotateOutcome::try_from(missing).is_err());
}

#[test]
fn request_ids_must_be_sixteen_bytes() {
    assert!(request_id_from_wire(&[0; 15]).is_err());
    assert!(request_id_from_wire(&[]).is_err());
    assert_eq!(request_id_from_wire(&[1; 16]).unwrap(), [1; 16]);
}

#[test]
fn malformed_input_maps_to_invalid_argument() {
    let status = tonic::Status::from(key_from_wire(&[0; 2]).unwrap_err());
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[test]
fn throttle_commands_and_outcomes_survive_the_round_trip() {
    let policy = ThrottlePolicy {
        free_failures: 5,
        first_delay_secs: 2,
        max_delay_secs: 900,
        window_secs: 901,
    };
    for event in [ThrottleEvent::Attempt, ThrottleEvent::Failure] {
        let command = Throttle {
            key: GrantKey::derived("test", &["k"]),
            event,
            policy,
        };
        let wire = throttle_request([3; 16], command);
        assert_eq!(wire.request_id, vec![3; 16]);
        assert_eq!(Throttle::try_from(wire).unwrap(), command);
    }
    for outcome in [
        ThrottleOutcome::Admitted,
        ThrottleOutcome::Blocked {
            until: Timestamp(9),
        },
        ThrottleOutcome::Counted(FailureCount {
            failures: 7,
            blocked_until: Timestamp(12),
        }),
    ] {
        let back = ThrottleOutcome::try_from(wire::ThrottleResponse::from(outcome)).unwrap();
        assert_eq!(back, outcome);
    }
}

#[test]
fn malformed_throttle_messages_are_errors() {
    let command = Throttle {
        key: GrantKey::derived("test", &["k"]),
        event: ThrottleEvent::Failure,
        policy: ThrottlePolicy {
            free_failures: 1,
            first_delay_secs: 1,
            max_delay_secs: 1,
            window_secs: 1,
        },
    };
    let good = throttle_request([0; 16], command);
    for bad in [
        wire::ThrottleRequest {
            event: 0,
            ..good.clone()
        },
        wire::ThrottleRequest {
            event: 99,
            ..good.clone()
        },
        wire::ThrottleRequest {
            policy: None,
            ..good.clone()
        },
        wire::ThrottleRequest {
            key: vec![1; 31],
            ..good
        },
    ] {
        let error = Throttle::try_from(bad).unwrap_err();
        assert_eq!(tonic::Status::from(error).code(), Code::InvalidArgument);
    }
    assert!(ThrottleOutcome::try_from(wire::ThrottleResponse { outcome: None }).is_err());
}
