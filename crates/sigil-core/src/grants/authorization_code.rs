//! `authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3).
//!
//! The code is consumed in one atomic store command before anything else is checked, so two
//! concurrent redemptions cannot both succeed, and a failed check (a wrong PKCE verifier)
//! burns the code rather than allowing another guess. A second redemption revokes what the
//! first issued: the grant family (refresh tokens, reference access tokens) and, by a marker
//! under an id derived from the code, the JWT access token.

use super::{GrantHandler, TokenRequest, TokenResponse};
use crate::access::GrantedAccess;
use crate::error::ProtocolError;
use crate::handle::{GrantKey, derived_token_id};
use crate::repository::{
    AuthorizationCodes, CODE_ACCESS_TOKEN_ID, CodePayload, Redemption, RefreshTokens, RevokedJwts,
    Stored,
};
use crate::store::GrantStore;
use crate::tokens::Minter;
use crate::tokens::family::{self, FamilyTokens};
use async_trait::async_trait;
use std::sync::Arc;

/// A stored code names no user: the store holds a grant this server never files (codes are
/// issued to a signed-in user), so the redemption fails as `server_error`.
#[derive(Debug, thiserror::Error)]
#[error("authorization code {0:?} without a subject")]
struct CodeWithoutSubject(GrantKey);

/// The authorization code grant.
pub struct AuthorizationCode {
    minter: Arc<Minter>,
    codes: AuthorizationCodes,
    refresh_tokens: RefreshTokens,
    revoked_jwts: RevokedJwts,
}

impl AuthorizationCode {
    /// The `grant_type` value.
    pub const GRANT_TYPE: &'static str = "authorization_code";

    /// A handler minting through `minter` and redeeming codes from `store`.
    pub fn new(minter: Arc<Minter>, store: Arc<dyn GrantStore>) -> Self {
        Self {
            minter,
            codes: AuthorizationCodes::new(Arc::clone(&store)),
            refresh_tokens: RefreshTokens::new(Arc::clone(&store)),
            revoked_jwts: RevokedJwts::new(store),
        }
    }

    /// A replayed code: revoke its family and the JWT access token the first redemption issued.
    async fn revoke_issued(
        &self,
        code: &str,
        grant: &Stored<CodePayload>,
        request: &TokenRequest<'_>,
    ) -> Result<(), ProtocolError> {
        let revoked = self.codes.revoke_family(grant).await?;
        let jti = derived_token_id(CODE_ACCESS_TOKEN_ID, code);
        self.revoked_jwts
            .revoke(
                &jti,
                &grant.client_id,
                request.now,
                request.now.plus(request.client.access_token_lifetime),
            )
            .await?;
        crate::audit::code_replayed(&grant.client_id, grant.subject.as_deref(), revoked);
        Ok(())
    }
}

#[async_trait]
impl GrantHandler for AuthorizationCode {
    fn grant_type(&self) -> &str {
        Self::GRANT_TYPE
    }

    async fn handle(&self, request: TokenRequest<'_>) -> Result<TokenResponse, ProtocolError> {
        let code = request.params.require("code")?;
        let invalid = || ProtocolError::invalid_grant("the code is invalid, expired or used");
        let grant = match self.codes.redeem(code).await? {
            Redemption::Redeemed(grant) => grant,
            Redemption::Replayed(grant) => {
                if grant.client_id == request.client.client_id {
                    self.revoke_issued(code, &grant, &request).await?;
                }
                return Err(invalid());
            }
            Redemption::NotFound => return Err(invalid()),
        };
        if grant.client_id != request.client.client_id || request.now.reached(grant.expires_at) {
            return Err(invalid());
        }
        let payload = grant.payload()?;
        if request.params.get("redirect_uri") != Some(payload.redirect_uri.as_str()) {
            return Err(ProtocolError::invalid_grant(
                "redirect_uri differs from the authorization request's",
            ));
        }
        let verifier = request.params.get("code_verifier");
        match (&payload.code_challenge, verifier) {
            (Some(challenge), Some(verifier)) if challenge.verify(verifier) => {}
            (Some(_), Some(_)) => {
                return Err(ProtocolError::invalid_grant("the code_verifier is wrong"));
            }
            (Some(_), None) => {
                return Err(ProtocolError::invalid_grant(
                    "this code needs its code_verifier",
                ));
            }
            // RFC 9700 §2.1.1: a verifier for a code issued without a challenge is a downgrade.
            (None, Some(_)) => {
                return Err(ProtocolError::invalid_grant(
                    "this code was issued without a code_challenge",
                ));
            }
            (None, None) => {}
        }
        let Some(subject) = grant.subject.as_deref() else {
            return Err(ProtocolError::server_error().caused_by(CodeWithoutSubject(grant.key)));
        };
        let response = family::issue(
            &self.minter,
            &self.refresh_tokens,
            FamilyTokens {
                client: request.client,
                subject,
                access: GrantedAccess {
                    scopes: payload.scopes.clone(),
                    audiences: payload.audiences.clone(),
                },
                family: grant.family,
                auth_time: payload.auth_time,
                amr: &payload.amr,
                sid: &payload.sid,
                nonce: payload.nonce.as_deref(),
                access_token_id: Some(derived_token_id(CODE_ACCESS_TOKEN_ID, code)),
                now: request.now,
            },
        )
        .await?;
        crate::audit::code_redeemed(&grant.client_id, subject);
        Ok(response)
    }
}
