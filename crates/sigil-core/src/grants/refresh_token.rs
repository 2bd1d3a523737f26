//! `refresh_token` (RFC 6749 §6) with rotation: every use returns a new refresh token, in one
//! atomic store command that also detects reuse. A rotated-out token presented again within
//! the grace period yields the same successor (two tabs refreshing at once stay signed in);
//! after it, the whole family is revoked (RFC 9700 §4.14.2).
//!
//! Lifetimes: each successor lives `sliding_lifetime`, never past sign-in plus
//! `absolute_lifetime`.

use super::handoff;
use super::{GrantHandler, TokenRequest, TokenResponse};
use crate::access::GrantedAccess;
use crate::error::ProtocolError;
#[cfg(test)]
use crate::handle::FamilyId;
use crate::handle::{GrantKey, new_handle};
use crate::repository::RefreshPayload;
use crate::scope::ScopeSet;
use crate::store::{Grant, GrantKind, GrantStore, RotateOutcome, Rotation};
use crate::time::Timestamp;
use crate::tokens::family::{self, FamilyTokens};
use crate::tokens::{Minter, REFRESH_TOKEN_GRANT_TYPE};
use async_trait::async_trait;
use std::sync::Arc;

/// The refresh token grant.
pub struct RefreshToken {
    minter: Arc<Minter>,
    store: Arc<dyn GrantStore>,
}

impl RefreshToken {
    /// The `grant_type` value.
    pub const GRANT_TYPE: &'static str = REFRESH_TOKEN_GRANT_TYPE;

    /// A handler minting through `minter` and rotating tokens in `store`.
    pub fn new(minter: Arc<Minter>, store: Arc<dyn GrantStore>) -> Self {
        Self { minter, store }
    }
}

#[async_trait]
impl GrantHandler for RefreshToken {
    fn grant_type(&self) -> &str {
        Self::GRANT_TYPE
    }

    async fn handle(&self, request: TokenRequest<'_>) -> Result<TokenResponse, ProtocolError> {
        let presented = request.params.require("refresh_token")?;
        let invalid = || ProtocolError::invalid_grant("the refresh token is invalid or expired");
        let key = GrantKey::of_handle(presented);
        let Some(grant) = self.store.get(&key).await? else {
            return Err(invalid());
        };
        if grant.kind != GrantKind::RefreshToken || grant.client_id != request.client.client_id {
            return Err(invalid());
        }
        let Ok(payload) = serde_json::from_slice::<RefreshPayload>(&grant.payload) else {
            tracing::error!(?key, "unreadable refresh token payload");
            return Err(ProtocolError::server_error());
        };
        let Some(subject) = grant.subject.clone() else {
            return Err(invalid());
        };
        // The family's end, whatever the stored expiry says.
        if request.now.reached(payload.absolute_expiry) {
            return Err(invalid());
        }
        let access = narrowed(&payload, request.params.get("scope"))?;

        let policy = &request.client.sign_in.refresh;
        let successor_handle = new_handle();
        let successor_payload = RefreshPayload {
            handoff: handoff::seal(presented, &successor_handle),
            ..payload.clone()
        };
        let successor = Grant {
            key: GrantKey::of_handle(&successor_handle),
            kind: GrantKind::RefreshToken,
            client_id: grant.client_id.clone(),
            subject: Some(subject.clone()),
            family: grant.family,
            issued_at: request.now,
            expires_at: request
                .now
                .plus(policy.sliding_lifetime)
                .min(payload.absolute_expiry),
            consumed_at: None,
            payload: successor_payload.encode()?,
        };
        let rotation = Rotation {
            presented: key,
            successor,
            grace_seconds: policy.grace_period.as_secs(),
        };
        let refresh_token = match self.store.rotate(rotation).await? {
            RotateOutcome::Rotated { .. } => successor_handle,
            RotateOutcome::WithinGrace { successor, .. } => {
                let earlier = serde_json::from_slice::<RefreshPayload>(&successor.payload)
                    .ok()
                    .and_then(|payload| payload.handoff)
                    .and_then(|sealed| handoff::open(presented, &sealed));
                earlier.ok_or_else(invalid)?
            }
            RotateOutcome::ReuseDetected { previous, revoked } => {
                crate::audit::refresh_reuse_detected(
                    &previous.client_id,
                    previous.subject.as_deref(),
                    revoked,
                );
                return Err(invalid());
            }
            RotateOutcome::NotFound => return Err(invalid()),
            RotateOutcome::SuccessorExists => {
                tracing::error!("refresh token rotation: successor handle collision");
                return Err(ProtocolError::server_error());
            }
        };

        let mut response = family::mint(
            &self.minter,
            &FamilyTokens {
                client: request.client,
                subject: &subject,
                access,
                family: grant.family,
                auth_time: payload.auth_time,
                amr: &payload.amr,
                sid: &payload.sid,
                nonce: None,
                access_token_id: None,
                now: request.now,
            },
        )
        .await?;
        response.refresh_token = Some(refresh_token);
        Ok(response)
    }
}

/// What introspection may tell about a refresh token (RFC 7662 covers refresh tokens too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiveRefreshToken {
    pub scopes: Vec<String>,
    pub audiences: Vec<String>,
    /// The earlier of the token's own expiry and its family's absolute end.
    pub expires_at: Timestamp,
}

/// The refresh token stored as `grant`, if it can still be redeemed at `now`: not rotated
/// out (a token kept only for the grace period is spent), before its family's end, and
/// readable.
pub(crate) fn live_refresh_token(grant: &Grant, now: Timestamp) -> Option<LiveRefreshToken> {
    if grant.kind != GrantKind::RefreshToken || grant.consumed_at.is_some() {
        return None;
    }
    let payload = serde_json::from_slice::<RefreshPayload>(&grant.payload).ok()?;
    let expires_at = grant.expires_at.min(payload.absolute_expiry);
    if now.reached(expires_at) {
        return None;
    }
    Some(LiveRefreshToken {
        scopes: payload.scopes,
        audiences: payload.audiences,
        expires_at,
    })
}

/// A refresh request may narrow the scopes of the new access token, never widen them.
fn narrowed(payload: &RefreshPayload, scope: Option<&str>) -> Result<GrantedAccess, ProtocolError> {
    let granted = GrantedAccess {
        scopes: payload.scopes.clone(),
        audiences: payload.audiences.clone(),
    };
    let Some(scope) = scope else {
        return Ok(granted);
    };
    let scopes = ScopeSet::parse(scope)?;
    if let Some(stray) = scopes.first_refused(|scope| payload.scopes.iter().any(|own| own == scope))
    {
        return Err(ProtocolError::invalid_scope(format!(
            "scope `{stray}` was not granted to this refresh token"
        )));
    }
    Ok(GrantedAccess {
        scopes: scopes.into_vec(),
        audiences: granted.audiences,
    })
}

/// A stored refresh token as a code redemption files it, for tests of what reads it.
#[cfg(test)]
pub(crate) fn test_refresh_grant(
    handle: &str,
    client_id: &str,
    subject: &str,
    scopes: &[&str],
    issued_at: Timestamp,
    expires_at: Timestamp,
    absolute_expiry: Timestamp,
) -> Grant {
    let payload = RefreshPayload {
        scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
        audiences: Vec::new(),
        auth_time: issued_at,
        amr: vec!["pwd".to_owned()],
        sid: "sid".to_owned(),
        absolute_expiry,
        handoff: None,
    };
    Grant {
        key: GrantKey::of_handle(handle),
        kind: GrantKind::RefreshToken,
        client_id: client_id.to_owned(),
        subject: Some(subject.to_owned()),
        family: Some(FamilyId::new_random()),
        issued_at,
        expires_at,
        consumed_at: None,
        payload: serde_json::to_vec(&payload).unwrap_or_default(),
    }
}
