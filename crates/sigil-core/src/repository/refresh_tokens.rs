//! Refresh tokens: what the grant store keeps under a refresh token's handle, filed when a
//! code is redeemed and replaced at every use by one atomic rotation.

use super::{RepositoryError, Stored, encode, file_new};
use crate::handle::{FamilyId, GrantKey, new_handle};
use crate::scope::ScopeSet;
use crate::store::{Grant, GrantKind};
use crate::store::{GrantStore, RevokeTarget, RotateOutcome, Rotation, StoreError};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

pub(super) const KIND: GrantKind = GrantKind::RefreshToken;

/// What the grant store keeps under a refresh token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RefreshPayload {
    pub scopes: ScopeSet,
    pub audiences: Vec<String>,
    pub auth_time: Timestamp,
    pub amr: Vec<String>,
    pub sid: String,
    /// The family ends here, however often it is rotated.
    pub absolute_expiry: Timestamp,
    /// This token, sealed under the token it replaced (see `grants::handoff`).
    pub handoff: Option<String>,
}

/// A refresh token to file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewRefreshToken<'a> {
    pub client_id: &'a str,
    pub subject: &'a str,
    /// The sign-in's family.
    pub family: Option<FamilyId>,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub payload: &'a RefreshPayload,
}

impl NewRefreshToken<'_> {
    fn grant(&self, handle: &str) -> Result<Grant, RepositoryError> {
        Ok(Grant {
            key: GrantKey::of_handle(handle),
            kind: KIND,
            client_id: self.client_id.to_owned(),
            subject: Some(self.subject.to_owned()),
            family: self.family,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            consumed_at: None,
            payload: encode(KIND, self.payload)?,
        })
    }
}

/// How a rotation ended.
#[derive(Debug)]
pub(crate) enum RefreshRotation {
    /// The presented token was live: it is rotated out and the successor filed.
    Rotated,
    /// The presented token was rotated less than the grace period ago: this is the successor
    /// that rotation filed (nothing changed).
    WithinGrace(Stored<RefreshPayload>),
    /// The presented token was used before, outside the grace period: its family is revoked.
    ReuseDetected {
        /// The client it was issued to.
        client_id: String,
        /// Its user.
        subject: Option<String>,
        /// How many grants were removed.
        revoked: u64,
    },
    /// No live refresh token under that handle.
    NotFound,
}

/// What introspection may tell about a refresh token (RFC 7662 covers refresh tokens too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiveRefreshToken {
    pub scopes: ScopeSet,
    pub audiences: Vec<String>,
    /// The earlier of the token's own expiry and its family's absolute end.
    pub expires_at: Timestamp,
}

impl Stored<RefreshPayload> {
    /// The token, if it can still be redeemed at `now`: not rotated out (a token kept only
    /// for the grace period is spent), before its family's end, and readable.
    pub(crate) fn live(&self, now: Timestamp) -> Option<LiveRefreshToken> {
        if self.consumed_at.is_some() {
            return None;
        }
        let payload = self.payload().ok()?;
        let expires_at = self.expires_at.min(payload.absolute_expiry);
        if now.reached(expires_at) {
            return None;
        }
        Some(LiveRefreshToken {
            scopes: payload.scopes,
            audiences: payload.audiences,
            expires_at,
        })
    }
}

/// Refresh tokens in the grant store.
#[derive(Clone)]
pub(crate) struct RefreshTokens {
    store: Arc<dyn GrantStore>,
}

impl RefreshTokens {
    /// Refresh tokens in `store`.
    pub(crate) fn new(store: Arc<dyn GrantStore>) -> Self {
        Self { store }
    }

    /// Files a new refresh token (the first of a family) and returns its handle.
    pub(crate) async fn file(&self, token: NewRefreshToken<'_>) -> Result<String, RepositoryError> {
        let handle = new_handle();
        file_new(self.store.as_ref(), token.grant(&handle)?).await?;
        Ok(handle)
    }

    /// The refresh token filed under `handle`, consumed or not.
    pub(crate) async fn find(
        &self,
        handle: &str,
    ) -> Result<Option<Stored<RefreshPayload>>, StoreError> {
        let grant = self.store.get(&GrantKey::of_handle(handle)).await?;
        Ok(grant.and_then(|grant| Stored::of_kind(grant, KIND)))
    }

    /// Replaces `presented` by `successor` (filed under `successor_handle`) in one atomic
    /// store command that also detects reuse, with `grace` for a second presentation.
    pub(crate) async fn rotate(
        &self,
        presented: &str,
        successor_handle: &str,
        successor: NewRefreshToken<'_>,
        grace: Duration,
    ) -> Result<RefreshRotation, RepositoryError> {
        let rotation = Rotation {
            presented: GrantKey::of_handle(presented),
            successor: successor.grant(successor_handle)?,
            grace_seconds: grace.as_secs(),
        };
        Ok(match self.store.rotate(rotation).await? {
            RotateOutcome::Rotated { .. } => RefreshRotation::Rotated,
            RotateOutcome::WithinGrace { successor, .. } => Stored::of_kind(successor, KIND)
                .map_or(RefreshRotation::NotFound, RefreshRotation::WithinGrace),
            RotateOutcome::ReuseDetected { previous, revoked } => RefreshRotation::ReuseDetected {
                client_id: previous.client_id,
                subject: previous.subject,
                revoked,
            },
            RotateOutcome::SuccessorExists => {
                return Err(RepositoryError::HandleCollision { kind: KIND });
            }
            RotateOutcome::NotFound => RefreshRotation::NotFound,
        })
    }

    /// Revokes `token`'s family (every token of the same sign-in), or the token alone if it
    /// has none (RFC 7009 §2.1).
    pub(crate) async fn revoke_family(
        &self,
        token: &Stored<RefreshPayload>,
    ) -> Result<u64, StoreError> {
        let target = match token.family {
            Some(family) => RevokeTarget::Family(family),
            None => RevokeTarget::Grant(token.key),
        };
        self.store.revoke(target).await
    }
}
