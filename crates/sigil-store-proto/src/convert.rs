//! Conversions between the wire messages and sigil-core's store types, both directions.
//!
//! Encoding (core → wire) is infallible except for variants of sigil-core's non-exhaustive
//! enums that the protocol cannot express yet. Decoding (wire → core) checks byte lengths,
//! enum values and required fields; a malformed message is a [`WireError`], never a panic.
//! A server answers a [`WireError`] in a request with INVALID_ARGUMENT (`Status::from`).

use crate::v1 as wire;
use sigil_core::handle::{FamilyId, GrantKey};
use sigil_core::store::{
    ConsumeOutcome, FailureCount, Grant, GrantKind, PutOutcome, RevokeTarget, RotateOutcome,
    Rotation, Throttle, ThrottleEvent, ThrottleOutcome, ThrottlePolicy,
};
use sigil_core::time::Timestamp;

/// Why a message could not be converted: malformed wire input, or a value the protocol cannot
/// express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed store message: {0}")]
pub struct WireError(pub String);

impl WireError {
    fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl From<WireError> for tonic::Status {
    fn from(error: WireError) -> Self {
        tonic::Status::invalid_argument(error.to_string())
    }
}

/// Reads a request's 16-byte `request_id`.
pub fn request_id_from_wire(bytes: &[u8]) -> Result<[u8; 16], WireError> {
    <[u8; 16]>::try_from(bytes)
        .map_err(|_| WireError(format!("request_id of {} bytes, want 16", bytes.len())))
}

/// Reads a 32-byte grant key.
pub fn key_from_wire(bytes: &[u8]) -> Result<GrantKey, WireError> {
    <[u8; 32]>::try_from(bytes)
        .map(GrantKey::from_bytes)
        .map_err(|_| WireError(format!("grant key of {} bytes, want 32", bytes.len())))
}

/// Reads a 16-byte family id.
pub fn family_from_wire(bytes: &[u8]) -> Result<FamilyId, WireError> {
    <[u8; 16]>::try_from(bytes)
        .map(FamilyId::from_bytes)
        .map_err(|_| WireError(format!("family id of {} bytes, want 16", bytes.len())))
}

impl TryFrom<GrantKind> for wire::GrantKind {
    type Error = WireError;

    fn try_from(kind: GrantKind) -> Result<Self, WireError> {
        match kind {
            GrantKind::ReferenceToken => Ok(Self::ReferenceToken),
            GrantKind::RevokedJwt => Ok(Self::RevokedJwt),
            GrantKind::ClientAssertion => Ok(Self::ClientAssertion),
            GrantKind::AuthorizationCode => Ok(Self::AuthorizationCode),
            GrantKind::RefreshToken => Ok(Self::RefreshToken),
            GrantKind::Session => Ok(Self::Session),
            GrantKind::Consent => Ok(Self::Consent),
            GrantKind::LoginFailures => Ok(Self::LoginFailures),
            other => Err(WireError(format!("grant kind {other:?} has no wire form"))),
        }
    }
}

/// Reads a grant kind from its wire number; UNSPECIFIED and unknown numbers are errors.
pub fn kind_from_wire(kind: i32) -> Result<GrantKind, WireError> {
    match wire::GrantKind::try_from(kind) {
        Ok(wire::GrantKind::ReferenceToken) => Ok(GrantKind::ReferenceToken),
        Ok(wire::GrantKind::RevokedJwt) => Ok(GrantKind::RevokedJwt),
        Ok(wire::GrantKind::ClientAssertion) => Ok(GrantKind::ClientAssertion),
        Ok(wire::GrantKind::AuthorizationCode) => Ok(GrantKind::AuthorizationCode),
        Ok(wire::GrantKind::RefreshToken) => Ok(GrantKind::RefreshToken),
        Ok(wire::GrantKind::Session) => Ok(GrantKind::Session),
        Ok(wire::GrantKind::Consent) => Ok(GrantKind::Consent),
        Ok(wire::GrantKind::LoginFailures) => Ok(GrantKind::LoginFailures),
        Ok(wire::GrantKind::Unspecified) | Err(_) => {
            Err(WireError(format!("unknown grant kind {kind}")))
        }
    }
}

impl TryFrom<Grant> for wire::Grant {
    type Error = WireError;

    fn try_from(grant: Grant) -> Result<Self, WireError> {
        Ok(Self {
            key: grant.key.as_bytes().to_vec(),
            kind: wire::GrantKind::try_from(grant.kind)?.into(),
            client_id: grant.client_id,
            subject: grant.subject,
            family: grant.family.map(|family| family.as_bytes().to_vec()),
            issued_at: grant.issued_at.as_secs(),
            expires_at: grant.expires_at.as_secs(),
            consumed_at: grant.consumed_at.map(Timestamp::as_secs),
            payload: grant.payload,
        })
    }
}

impl TryFrom<wire::Grant> for Grant {
    type Error = WireError;

    fn try_from(grant: wire::Grant) -> Result<Self, WireError> {
        Ok(Self {
            key: key_from_wire(&grant.key)?,
            kind: kind_from_wire(grant.kind)?,
            client_id: grant.client_id,
            subject: grant.subject,
            family: grant.family.as_deref().map(family_from_wire).transpose()?,
            issued_at: Timestamp(grant.issued_at),
            expires_at: Timestamp(grant.expires_at),
            consumed_at: grant.consumed_at.map(Timestamp),
            payload: grant.payload,
        })
    }
}

/// Reads a required grant field (`None` is an error naming the field).
pub fn required_grant(grant: Option<wire::Grant>, field: &str) -> Result<Grant, WireError> {
    grant
        .ok_or_else(|| WireError(format!("missing {field}")))?
        .try_into()
}

/// Encodes a list of grants.
pub fn grants_to_wire(grants: Vec<Grant>) -> Result<Vec<wire::Grant>, WireError> {
    grants.into_iter().map(wire::Grant::try_from).collect()
}

/// Decodes a list of grants; one malformed grant fails the whole list.
pub fn grants_from_wire(grants: Vec<wire::Grant>) -> Result<Vec<Grant>, WireError> {
    grants.into_iter().map(Grant::try_from).collect()
}

impl TryFrom<RevokeTarget> for wire::revoke_request::Target {
    type Error = WireError;

    fn try_from(target: RevokeTarget) -> Result<Self, WireError> {
        match target {
            RevokeTarget::Grant(key) => Ok(Self::Grant(key.as_bytes().to_vec())),
            RevokeTarget::Family(family) => Ok(Self::Family(family.as_bytes().to_vec())),
            RevokeTarget::Subject(subject) => Ok(Self::Subject(subject)),
            RevokeTarget::Client(client_id) => Ok(Self::ClientId(client_id)),
            other => Err(WireError(format!(
                "revoke target {other:?} has no wire form"
            ))),
        }
    }
}

impl TryFrom<wire::revoke_request::Target> for RevokeTarget {
    type Error = WireError;

    fn try_from(target: wire::revoke_request::Target) -> Result<Self, WireError> {
        use wire::revoke_request::Target;
        match target {
            Target::Grant(key) => Ok(Self::Grant(key_from_wire(&key)?)),
            Target::Family(family) => Ok(Self::Family(family_from_wire(&family)?)),
            Target::Subject(subject) => Ok(Self::Subject(subject)),
            Target::ClientId(client_id) => Ok(Self::Client(client_id)),
        }
    }
}

/// Reads a revoke request's target (absent is an error).
pub fn target_from_wire(
    target: Option<wire::revoke_request::Target>,
) -> Result<RevokeTarget, WireError> {
    target
        .ok_or_else(|| WireError::new("revoke request without a target"))?
        .try_into()
}

impl From<PutOutcome> for wire::PutResponse {
    fn from(outcome: PutOutcome) -> Self {
        let outcome = match outcome {
            PutOutcome::Stored => wire::PutOutcome::Stored,
            PutOutcome::AlreadyExists => wire::PutOutcome::AlreadyExists,
        };
        Self {
            outcome: outcome.into(),
        }
    }
}

impl TryFrom<wire::PutResponse> for PutOutcome {
    type Error = WireError;

    fn try_from(response: wire::PutResponse) -> Result<Self, WireError> {
        match wire::PutOutcome::try_from(response.outcome) {
            Ok(wire::PutOutcome::Stored) => Ok(Self::Stored),
            Ok(wire::PutOutcome::AlreadyExists) => Ok(Self::AlreadyExists),
            Ok(wire::PutOutcome::Unspecified) | Err(_) => Err(WireError(format!(
                "unknown put outcome {}",
                response.outcome
            ))),
        }
    }
}

impl TryFrom<ConsumeOutcome> for wire::ConsumeResponse {
    type Error = WireError;

    fn try_from(outcome: ConsumeOutcome) -> Result<Self, WireError> {
        use wire::consume_response::Outcome;
        let outcome = match outcome {
            ConsumeOutcome::Consumed(grant) => Outcome::Consumed(grant.try_into()?),
            ConsumeOutcome::AlreadyConsumed(grant) => Outcome::AlreadyConsumed(grant.try_into()?),
            ConsumeOutcome::NotFound => Outcome::NotFound(wire::NotFound {}),
        };
        Ok(Self {
            outcome: Some(outcome),
        })
    }
}

impl TryFrom<wire::ConsumeResponse> for ConsumeOutcome {
    type Error = WireError;

    fn try_from(response: wire::ConsumeResponse) -> Result<Self, WireError> {
        use wire::consume_response::Outcome;
        match response.outcome {
            Some(Outcome::Consumed(grant)) => Ok(Self::Consumed(grant.try_into()?)),
            Some(Outcome::AlreadyConsumed(grant)) => Ok(Self::AlreadyConsumed(grant.try_into()?)),
            Some(Outcome::NotFound(_)) => Ok(Self::NotFound),
            None => Err(WireError::new("consume answer without an outcome")),
        }
    }
}

/// Builds the wire request for a rotation.
pub fn rotate_request(
    request_id: [u8; 16],
    rotation: Rotation,
) -> Result<wire::RotateRequest, WireError> {
    Ok(wire::RotateRequest {
        request_id: request_id.to_vec(),
        presented: rotation.presented.as_bytes().to_vec(),
        successor: Some(rotation.successor.try_into()?),
        grace_seconds: rotation.grace_seconds,
    })
}

impl TryFrom<wire::RotateRequest> for Rotation {
    type Error = WireError;

    /// The rotation a request asks for (its `request_id` is read separately).
    fn try_from(request: wire::RotateRequest) -> Result<Self, WireError> {
        Ok(Self {
            presented: key_from_wire(&request.presented)?,
            successor: required_grant(request.successor, "successor")?,
            grace_seconds: request.grace_seconds,
        })
    }
}

impl TryFrom<RotateOutcome> for wire::RotateResponse {
    type Error = WireError;

    fn try_from(outcome: RotateOutcome) -> Result<Self, WireError> {
        use wire::rotate_response::Outcome;
        let outcome = match outcome {
            RotateOutcome::Rotated { previous } => Outcome::Rotated(wire::Rotated {
                previous: Some(previous.try_into()?),
            }),
            RotateOutcome::WithinGrace {
                previous,
                successor,
            } => Outcome::WithinGrace(wire::WithinGrace {
                previous: Some(previous.try_into()?),
                successor: Some(successor.try_into()?),
            }),
            RotateOutcome::ReuseDetected { previous, revoked } => {
                Outcome::ReuseDetected(wire::ReuseDetected {
                    previous: Some(previous.try_into()?),
                    revoked,
                })
            }
            RotateOutcome::SuccessorExists => Outcome::SuccessorExists(wire::SuccessorExists {}),
            RotateOutcome::NotFound => Outcome::NotFound(wire::NotFound {}),
            other => {
                return Err(WireError(format!(
                    "rotate outcome {other:?} has no wire form"
                )));
            }
        };
        Ok(Self {
            outcome: Some(outcome),
        })
    }
}

impl TryFrom<wire::RotateResponse> for RotateOutcome {
    type Error = WireError;

    fn try_from(response: wire::RotateResponse) -> Result<Self, WireError> {
        use wire::rotate_response::Outcome;
        match response.outcome {
            Some(Outcome::Rotated(rotated)) => Ok(Self::Rotated {
                previous: required_grant(rotated.previous, "previous")?,
            }),
            Some(Outcome::WithinGrace(grace)) => Ok(Self::WithinGrace {
                previous: required_grant(grace.previous, "previous")?,
                successor: required_grant(grace.successor, "successor")?,
            }),
            Some(Outcome::ReuseDetected(reuse)) => Ok(Self::ReuseDetected {
                previous: required_grant(reuse.previous, "previous")?,
                revoked: reuse.revoked,
            }),
            Some(Outcome::SuccessorExists(_)) => Ok(Self::SuccessorExists),
            Some(Outcome::NotFound(_)) => Ok(Self::NotFound),
            None => Err(WireError::new("rotate answer without an outcome")),
        }
    }
}

/// Builds the wire request for a throttle command.
pub fn throttle_request(request_id: [u8; 16], command: Throttle) -> wire::ThrottleRequest {
    let event = match command.event {
        ThrottleEvent::Attempt => wire::ThrottleEvent::Attempt,
        ThrottleEvent::Failure => wire::ThrottleEvent::Failure,
    };
    let policy = command.policy;
    wire::ThrottleRequest {
        request_id: request_id.to_vec(),
        key: command.key.as_bytes().to_vec(),
        event: event.into(),
        policy: Some(wire::ThrottlePolicy {
            free_failures: policy.free_failures,
            first_delay_seconds: policy.first_delay_secs,
            max_delay_seconds: policy.max_delay_secs,
            window_seconds: policy.window_secs,
        }),
    }
}

impl TryFrom<wire::ThrottleRequest> for Throttle {
    type Error = WireError;

    /// The command a request asks for (its `request_id` is read separately).
    fn try_from(request: wire::ThrottleRequest) -> Result<Self, WireError> {
        let event = match wire::ThrottleEvent::try_from(request.event) {
            Ok(wire::ThrottleEvent::Attempt) => ThrottleEvent::Attempt,
            Ok(wire::ThrottleEvent::Failure) => ThrottleEvent::Failure,
            Ok(wire::ThrottleEvent::Unspecified) | Err(_) => {
                return Err(WireError(format!(
                    "unknown throttle event {}",
                    request.event
                )));
            }
        };
        let policy = request
            .policy
            .ok_or_else(|| WireError::new("throttle request without a policy"))?;
        Ok(Self {
            key: key_from_wire(&request.key)?,
            event,
            policy: ThrottlePolicy {
                free_failures: policy.free_failures,
                first_delay_secs: policy.first_delay_seconds,
                max_delay_secs: policy.max_delay_seconds,
                window_secs: policy.window_seconds,
            },
        })
    }
}

impl From<ThrottleOutcome> for wire::ThrottleResponse {
    fn from(outcome: ThrottleOutcome) -> Self {
        use wire::throttle_response::Outcome;
        let outcome = match outcome {
            ThrottleOutcome::Admitted => Outcome::Admitted(wire::Admitted {}),
            ThrottleOutcome::Blocked { until } => Outcome::Blocked(wire::Blocked {
                until: until.as_secs(),
            }),
            ThrottleOutcome::Counted(count) => Outcome::Counted(wire::Counted {
                failures: count.failures,
                blocked_until: count.blocked_until.as_secs(),
            }),
        };
        Self {
            outcome: Some(outcome),
        }
    }
}

impl TryFrom<wire::ThrottleResponse> for ThrottleOutcome {
    type Error = WireError;

    fn try_from(response: wire::ThrottleResponse) -> Result<Self, WireError> {
        use wire::throttle_response::Outcome;
        match response.outcome {
            Some(Outcome::Admitted(_)) => Ok(Self::Admitted),
            Some(Outcome::Blocked(blocked)) => Ok(Self::Blocked {
                until: Timestamp(blocked.until),
            }),
            Some(Outcome::Counted(counted)) => Ok(Self::Counted(FailureCount {
                failures: counted.failures,
                blocked_until: Timestamp(counted.blocked_until),
            })),
            None => Err(WireError::new("throttle answer without an outcome")),
        }
    }
}

#[cfg(test)]
mod tests;
