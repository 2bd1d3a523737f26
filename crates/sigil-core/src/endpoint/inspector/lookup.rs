//! Finding out what a presented token is: a JWT access token this server signed, a reference
//! handle in the grant store, or (for introspection only) a refresh token. Shared by
//! introspection, userinfo and revocation.

use super::TokenInspector;
use crate::error::ProtocolError;
use crate::handle::GrantKey;
use crate::repository::{FoundHandle, ReferenceTokenPayload, RefreshPayload, Stored, find_handle};
use crate::time::Timestamp;
use crate::tokens::{ACCESS_TOKEN_JWT_TYPE, AccessTokenClaims, Audience};

/// A live token.
#[derive(Debug, Clone)]
pub(super) struct ActiveToken {
    pub client_id: String,
    pub subject: Option<String>,
    pub scope: String,
    pub audience: Audience,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub form: TokenForm,
}

impl ActiveToken {
    /// The access token's unique id; refresh tokens have none.
    pub fn jti(&self) -> Option<&str> {
        match &self.form {
            TokenForm::Jwt { jti } | TokenForm::Reference { jti, .. } => Some(jti),
            TokenForm::Refresh => None,
        }
    }
}

/// What a token is and where it lives, which decides who may see it and how it is revoked.
#[derive(Debug, Clone)]
pub(super) enum TokenForm {
    /// A JWT access token.
    Jwt { jti: String },
    /// A reference access token, stored under `key`.
    Reference { key: GrantKey, jti: String },
    /// A refresh token: only the client it was issued to may introspect it.
    Refresh,
}

/// Which tokens a lookup may find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Accept {
    /// Access tokens: what userinfo and access-token revocation take.
    AccessTokens,
    /// Access and refresh tokens: what introspection describes (RFC 7662 §2.1).
    AccessAndRefreshTokens,
}

impl TokenInspector {
    /// The token if it is live: signed or stored by this server, valid at `now` (past `nbf`,
    /// before `exp`), unrevoked, and of a kind `accept` takes. Store failures are errors;
    /// anything else about the token is simply `None`.
    pub(super) async fn lookup(
        &self,
        token: &str,
        accept: Accept,
        now: Timestamp,
    ) -> Result<Option<ActiveToken>, ProtocolError> {
        if token.split('.').count() == 3 {
            return self.lookup_jwt(token, now).await;
        }
        self.lookup_stored(token, accept, now).await
    }

    async fn lookup_jwt(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<ActiveToken>, ProtocolError> {
        let Ok(verified) = self.context.signer.verify(token) else {
            return Ok(None);
        };
        if verified.typ.as_deref() != Some(ACCESS_TOKEN_JWT_TYPE) {
            return Ok(None);
        }
        // RFC 7519 §4.1.5: not to be accepted before `nbf`. Sigil does not set it, so a
        // token that carries one was made for later; one that is not a number is not ours.
        let not_before = match verified.claims.get("nbf") {
            None => None,
            Some(nbf) => match nbf.as_u64() {
                Some(nbf) => Some(Timestamp(nbf)),
                None => return Ok(None),
            },
        };
        if not_before.is_some_and(|nbf| !now.reached(nbf)) {
            return Ok(None);
        }
        let Ok(claims) = serde_json::from_value::<AccessTokenClaims>(verified.claims.into()) else {
            return Ok(None);
        };
        if claims.iss != self.context.issuer || now.reached(Timestamp(claims.exp)) {
            return Ok(None);
        }
        if self.revoked_jwts.is_revoked(&claims.jti).await? {
            return Ok(None);
        }
        Ok(Some(ActiveToken {
            client_id: claims.client_id,
            subject: Some(claims.sub),
            scope: claims.scope,
            audience: claims.aud,
            issued_at: Timestamp(claims.iat),
            expires_at: Timestamp(claims.exp),
            form: TokenForm::Jwt { jti: claims.jti },
        }))
    }

    /// A handle: a reference access token, or a refresh token if `accept` takes one.
    async fn lookup_stored(
        &self,
        token: &str,
        accept: Accept,
        now: Timestamp,
    ) -> Result<Option<ActiveToken>, ProtocolError> {
        match find_handle(self.context.store.as_ref(), token).await? {
            Some(FoundHandle::Reference(stored)) => Ok(reference_token(stored, now)),
            Some(FoundHandle::Refresh(stored)) if accept == Accept::AccessAndRefreshTokens => {
                Ok(refresh_token(stored, now))
            }
            _ => Ok(None),
        }
    }
}

fn reference_token(grant: Stored<ReferenceTokenPayload>, now: Timestamp) -> Option<ActiveToken> {
    if now.reached(grant.expires_at) {
        return None;
    }
    let payload = match grant.payload() {
        Ok(payload) => payload,
        Err(error) => {
            tracing::error!(%error, "reference token");
            return None;
        }
    };
    Some(ActiveToken {
        client_id: grant.client_id,
        subject: grant.subject,
        scope: payload.scopes.to_string(),
        audience: Audience::from_list(&payload.audiences),
        issued_at: grant.issued_at,
        expires_at: grant.expires_at,
        form: TokenForm::Reference {
            key: grant.key,
            jti: payload.jti,
        },
    })
}

fn refresh_token(grant: Stored<RefreshPayload>, now: Timestamp) -> Option<ActiveToken> {
    let live = grant.live(now)?;
    Some(ActiveToken {
        client_id: grant.client_id,
        subject: grant.subject,
        scope: live.scopes.to_string(),
        audience: Audience::from_list(&live.audiences),
        issued_at: grant.issued_at,
        expires_at: live.expires_at,
        form: TokenForm::Refresh,
    })
}
