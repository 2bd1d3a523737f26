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
use crate::handle::new_handle;
use crate::repository::{NewRefreshToken, RefreshPayload, RefreshRotation, RefreshTokens};
use crate::scope::ScopeSet;
use crate::store::GrantStore;
use crate::tokens::family::{self, FamilyTokens};
use crate::tokens::{Minter, REFRESH_TOKEN_GRANT_TYPE};
use async_trait::async_trait;
use std::sync::Arc;

/// The refresh token grant.
pub struct RefreshToken {
    minter: Arc<Minter>,
    refresh_tokens: RefreshTokens,
}

impl RefreshToken {
    /// The `grant_type` value.
    pub const GRANT_TYPE: &'static str = REFRESH_TOKEN_GRANT_TYPE;

    /// A handler minting through `minter` and rotating tokens in `store`.
    pub fn new(minter: Arc<Minter>, store: Arc<dyn GrantStore>) -> Self {
        Self {
            minter,
            refresh_tokens: RefreshTokens::new(store),
        }
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
        let Some(grant) = self.refresh_tokens.find(presented).await? else {
            return Err(invalid());
        };
        if grant.client_id != request.client.client_id {
            return Err(invalid());
        }
        let payload = grant.payload()?;
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
        let successor = NewRefreshToken {
            client_id: &grant.client_id,
            subject: &subject,
            family: grant.family,
            issued_at: request.now,
            expires_at: request
                .now
                .plus(policy.sliding_lifetime)
                .min(payload.absolute_expiry),
            payload: &successor_payload,
        };
        let rotation = self
            .refresh_tokens
            .rotate(presented, &successor_handle, successor, policy.grace_period)
            .await?;
        let refresh_token = match rotation {
            RefreshRotation::Rotated => successor_handle,
            RefreshRotation::WithinGrace(successor) => {
                let earlier = successor
                    .payload()
                    .ok()
                    .and_then(|payload| payload.handoff)
                    .and_then(|sealed| handoff::open(presented, &sealed));
                earlier.ok_or_else(invalid)?
            }
            RefreshRotation::ReuseDetected {
                client_id,
                subject,
                revoked,
            } => {
                crate::audit::refresh_reuse_detected(&client_id, subject.as_deref(), revoked);
                return Err(invalid());
            }
            RefreshRotation::NotFound => return Err(invalid()),
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
    if let Some(stray) = scopes.first_refused(|scope| payload.scopes.contains(scope)) {
        return Err(ProtocolError::invalid_scope(format!(
            "scope `{stray}` was not granted to this refresh token"
        )));
    }
    Ok(GrantedAccess {
        scopes,
        audiences: granted.audiences,
    })
}
