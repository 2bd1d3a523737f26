//! The revocation endpoint (RFC 7009).

use super::TokenInspector;
use super::lookup::{Accept, TokenForm};
use crate::error::{ErrorCode, Failure, ProtocolError};
use crate::parameters::Parameters;
use crate::time::Timestamp;

/// An answered revocation request.
#[derive(Debug, Clone)]
pub struct RevocationSuccess {
    /// The client that asked.
    pub client_id: String,
    /// True if a live token was revoked (invalid tokens are answered the same way, per RFC 7009).
    pub revoked: bool,
}

impl TokenInspector {
    /// The revocation endpoint (RFC 7009). A reference token is removed from the store and
    /// is inactive at once; a JWT access token is recorded as revoked until it expires, which
    /// introspection honours (validators that only check signatures cannot see it).
    /// `token_type_hint` is only a hint: every kind is looked up. A browser `origin` (the
    /// `Origin` header, if sent) must be one the client registered.
    pub async fn revoke(
        &self,
        authorization: Option<&str>,
        origin: Option<&str>,
        params: &Parameters,
        now: Timestamp,
    ) -> Result<RevocationSuccess, Failure> {
        let client = self
            .callers
            .authenticate_client_from(authorization, origin, params, now)
            .await?;
        let failed = |error| Failure::new(error, Some(&client.client_id));
        let token = params.require("token").map_err(failed)?;
        let Some(active) = self
            .lookup(token, Accept::AccessTokens, now)
            .await
            .map_err(failed)?
        else {
            let revoked = self
                .revoke_refresh_token(token, &client.client_id)
                .await
                .map_err(failed)?;
            return Ok(RevocationSuccess {
                client_id: client.client_id.clone(),
                revoked,
            });
        };
        if active.client_id != client.client_id {
            return Err(failed(not_this_clients()));
        }
        match &active.form {
            TokenForm::Reference { key, .. } => {
                self.reference_tokens
                    .revoke(*key)
                    .await
                    .map_err(|e| failed(e.into()))?;
            }
            TokenForm::Jwt { jti } => {
                self.revoked_jwts
                    .revoke(jti, &active.client_id, now, active.expires_at)
                    .await
                    .map_err(|e| failed(e.into()))?;
            }
            TokenForm::Refresh => {
                self.revoke_refresh_token(token, &client.client_id)
                    .await
                    .map_err(failed)?;
            }
        }
        Ok(RevocationSuccess {
            client_id: client.client_id.clone(),
            revoked: true,
        })
    }

    /// RFC 7009 §2.1: revoking a refresh token revokes its family (every token of the same
    /// sign-in). A token of another client is left alone and the request refused, as for
    /// access tokens.
    async fn revoke_refresh_token(
        &self,
        token: &str,
        client_id: &str,
    ) -> Result<bool, ProtocolError> {
        let Some(grant) = self.refresh_tokens.find(token).await? else {
            return Ok(false);
        };
        if grant.client_id != client_id {
            return Err(not_this_clients());
        }
        self.refresh_tokens.revoke_family(&grant).await?;
        Ok(true)
    }
}

/// RFC 7009 §2.1: a token issued to another client is not revoked, and the request is refused.
fn not_this_clients() -> ProtocolError {
    ProtocolError::new(
        ErrorCode::UnauthorizedClient,
        "the token was not issued to this client",
    )
}
