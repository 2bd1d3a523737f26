//! The userinfo endpoint (OIDC Core §5.3).

use super::TokenInspector;
use super::lookup::Accept;
use crate::error::{ErrorCode, ProtocolError};
use crate::model::OPENID;
use crate::scope::ScopeSet;
use crate::time::Timestamp;
use crate::tokens::user_claims;

impl TokenInspector {
    /// The userinfo endpoint (OIDC Core §5.3): the claims the access token's identity scopes
    /// release about its user. Errors are RFC 6750 bearer errors.
    pub async fn userinfo(
        &self,
        access_token: &str,
        now: Timestamp,
    ) -> Result<serde_json::Map<String, serde_json::Value>, ProtocolError> {
        let invalid = || {
            ProtocolError::new(
                ErrorCode::InvalidToken,
                "the access token is invalid, expired or revoked",
            )
        };
        let Some(active) = self.lookup(access_token, Accept::AccessTokens, now).await? else {
            return Err(invalid());
        };
        // Issued by this server, so well formed; a token without scopes has no `openid`.
        let scopes = ScopeSet::parse(&active.scope).unwrap_or_default();
        if !scopes.contains(OPENID) {
            return Err(ProtocolError::new(
                ErrorCode::InsufficientScope,
                "the access token was not granted the openid scope",
            ));
        }
        let Some(subject) = active.subject else {
            return Err(invalid());
        };
        let user = self
            .context
            .users
            .find(&subject)
            .await
            .map_err(|error| ProtocolError::server_error().caused_by(error))?;
        let user = user.ok_or_else(invalid)?;
        Ok(user_claims(&self.context.catalog, &scopes, &user))
    }
}
