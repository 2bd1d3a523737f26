//! The grant store contract: what the protocol needs from the replicated store.
//!
//! Implemented by the embedded single-node store (`sigil dev`) and by the cluster client; both
//! run the same state machine. Every operation that decides security is linearizable.
//! Grants are filed under [`GrantKey`]s (hashes), never under the handles clients hold.

use crate::handle::{FamilyId, GrantKey};
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

mod throttle;

pub use throttle::{FailureCount, Throttle, ThrottleEvent, ThrottleOutcome, ThrottlePolicy};

/// What a stored grant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum GrantKind {
    /// An opaque access token; the payload holds its claims.
    ReferenceToken,
    /// A marker that a JWT access token (by `jti`) was revoked before its expiry.
    RevokedJwt,
    /// A client assertion's `jti` seen once (RFC 7523 replay protection).
    ClientAssertion,
    /// An authorization code.
    AuthorizationCode,
    /// A refresh token.
    RefreshToken,
    /// A user's sign-in session (its cookie names it; logout removes it).
    Session,
    /// A user's remembered consent to a client's scopes.
    Consent,
    /// Failed sign-ins under one account or client address ([`FailureCount`]), changed only
    /// by [`GrantStore::throttle`].
    LoginFailures,
}

/// One record in the grant store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Where the grant is filed: the hash of its handle.
    pub key: GrantKey,
    /// What the grant is.
    pub kind: GrantKind,
    /// The client the grant was issued to (indexed for revoke-by-client).
    pub client_id: String,
    /// The resource owner, if any (indexed for revoke-by-subject).
    pub subject: Option<String>,
    /// The family the grant belongs to, if any (indexed for revoke-by-family).
    pub family: Option<FamilyId>,
    /// When the grant was issued.
    pub issued_at: Timestamp,
    /// When the grant stops existing; the store never returns a grant at or past this time.
    pub expires_at: Timestamp,
    /// Set once by a successful consume.
    pub consumed_at: Option<Timestamp>,
    /// What the protocol layer needs back (claims, scopes); opaque to the store.
    pub payload: Vec<u8>,
}

/// Which grants a revoke command removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RevokeTarget {
    /// One grant.
    Grant(GrantKey),
    /// Every grant of a family.
    Family(FamilyId),
    /// Every grant of a subject.
    Subject(String),
    /// Every grant issued to a client.
    Client(String),
}

/// The result of [`GrantStore::put`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PutOutcome {
    /// The grant was stored.
    Stored,
    /// A live grant already exists under that key; nothing was changed.
    AlreadyExists,
}

/// The result of [`GrantStore::consume`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsumeOutcome {
    /// This call consumed the grant; it is returned as it was stored, now marked consumed.
    Consumed(Grant),
    /// The grant had been consumed before (a replay); returned so the caller can revoke its family.
    AlreadyConsumed(Grant),
    /// No live grant under that key (never issued, expired, or revoked).
    NotFound,
}

/// A refresh-token rotation, applied as one atomic command by [`GrantStore::rotate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    /// The key of the refresh token the client presented.
    pub presented: GrantKey,
    /// The token that replaces it; its key must be fresh.
    pub successor: Grant,
    /// How long after a rotation the presented token may be presented again and still get the
    /// same successor (two tabs refreshing at once), in seconds. Zero disables the grace.
    pub grace_seconds: u64,
}

/// The result of [`GrantStore::rotate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RotateOutcome {
    /// The presented token was live and unused: it is now consumed (returned as stored, marked
    /// consumed) and the successor is stored.
    Rotated {
        /// The presented grant, now consumed.
        previous: Grant,
    },
    /// The presented token was rotated less than the grace period ago and its successor is
    /// still live: nothing changes, and that successor is returned.
    WithinGrace {
        /// The presented grant, consumed by the earlier rotation.
        previous: Grant,
        /// The successor stored by the earlier rotation.
        successor: Grant,
    },
    /// The presented token had already been rotated, outside the grace period (or its
    /// successor is gone): a replay. Every grant of its family (or the grant alone, if it has
    /// no family) was revoked.
    ReuseDetected {
        /// The presented grant as it was before the revocation.
        previous: Grant,
        /// How many grants were removed.
        revoked: u64,
    },
    /// A live grant already exists under the successor's key; nothing changed.
    SuccessorExists,
    /// No live grant under the presented key (never issued, expired, or revoked).
    NotFound,
}

/// The underlying error a [`StoreError`] keeps (shared, so the error can be cloned for every
/// caller of one batched command).
pub type ErrorCause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Why a store operation failed. The protocol layer maps these to `temporarily_unavailable`
/// or `server_error`; the error is logged with its causes ([`crate::error::ErrorChain`]).
/// `Display` says only what failed at this level; the cause is the [`source`], never repeated
/// in the message.
///
/// [`source`]: std::error::Error::source
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No leader could be reached or the operation timed out; safe for the client to retry.
    #[error("grant store unavailable: {detail}")]
    Unavailable {
        /// What failed (without the cause's message: that is the source).
        detail: String,
        /// The underlying error, if there is one.
        #[source]
        cause: Option<ErrorCause>,
    },
    /// The store failed in a way a retry will not fix.
    #[error("grant store failure: {detail}")]
    Internal {
        /// What failed (without the cause's message: that is the source).
        detail: String,
        /// The underlying error, if there is one.
        #[source]
        cause: Option<ErrorCause>,
    },
}

impl StoreError {
    /// Unavailable, for a reason that is not another error (a timeout, no leader).
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::Unavailable {
            detail: detail.into(),
            cause: None,
        }
    }

    /// Unavailable because `what` failed with `cause`.
    pub fn unavailable_from(
        what: &str,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Unavailable {
            detail: what.to_owned(),
            cause: Some(Arc::new(cause)),
        }
    }

    /// Internal, for a reason that is not another error.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::Internal {
            detail: detail.into(),
            cause: None,
        }
    }

    /// Internal because `what` failed with `cause`.
    pub fn internal_from(
        what: &str,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Internal {
            detail: what.to_owned(),
            cause: Some(Arc::new(cause)),
        }
    }

    /// Whether a retry may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// The operations the protocol needs from the grant store.
///
/// Writes return once a majority of store nodes have the command durably; reads and
/// read-modify-writes (`get`, `consume`, `rotate`, `throttle`, `list_by_subject`) are
/// linearizable. The
/// store stamps commands with its own clock, and never returns a grant whose `expires_at` has
/// been reached, even before it is swept.
#[async_trait]
pub trait GrantStore: Send + Sync + 'static {
    /// Stores a grant unless a live grant exists under its key.
    async fn put(&self, grant: Grant) -> Result<PutOutcome, StoreError>;

    /// The live grant under `key`, consumed or not.
    async fn get(&self, key: &GrantKey) -> Result<Option<Grant>, StoreError>;

    /// Marks the grant consumed, atomically and at most once.
    async fn consume(&self, key: &GrantKey) -> Result<ConsumeOutcome, StoreError>;

    /// Removes the target's grants; returns how many were removed.
    async fn revoke(&self, target: RevokeTarget) -> Result<u64, StoreError>;

    /// Rotates a refresh token atomically, with reuse detection and a grace period; see
    /// [`RotateOutcome`].
    async fn rotate(&self, rotation: Rotation) -> Result<RotateOutcome, StoreError>;

    /// The live grants of a subject, in key order.
    async fn list_by_subject(&self, subject: &str) -> Result<Vec<Grant>, StoreError>;

    /// Counts a sign-in failure, or admits or refuses an attempt, under a login-failure
    /// counter, atomically; see [`Throttle::apply`] for the rule.
    async fn throttle(&self, command: Throttle) -> Result<ThrottleOutcome, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::StoreError;
    use std::error::Error as _;

    #[test]
    fn a_store_error_keeps_its_cause_and_its_message() {
        let error = StoreError::internal_from("syncing", std::io::Error::other("disk full"));
        assert_eq!(error.to_string(), "grant store failure: syncing");
        let cause = error.source().map(ToString::to_string);
        assert_eq!(cause.as_deref(), Some("disk full"));
        assert!(!error.is_unavailable());
        let timeout = StoreError::unavailable("read timed out");
        assert!(timeout.is_unavailable());
        assert!(timeout.source().is_none());
        assert_eq!(
            timeout.to_string(),
            "grant store unavailable: read timed out"
        );
    }
}
