//! Finding out what a presented access token is: a JWT this server signed, or a reference
//! handle in the grant store. Shared by introspection and revocation.

use super::Provider;
use crate::error::ProtocolError;
use crate::handle::GrantKey;
use crate::store::GrantKind;
use crate::time::Timestamp;
use crate::tokens::{ACCESS_TOKEN_JWT_TYPE, AccessTokenClaims, Audience, ReferenceTokenPayload};

/// A live access token.
#[derive(Debug, Clone)]
pub(super) struct ActiveToken {
    pub client_id: String,
    pub subject: Option<String>,
    pub scope: String,
    pub audience: Audience,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub jti: String,
    pub form: TokenForm,
}

/// Where a token lives, which decides how it is revoked.
#[derive(Debug, Clone, Copy)]
pub(super) enum TokenForm {
    Jwt,
    Reference(GrantKey),
}

/// The store key of the marker that revokes a JWT access token by `jti`.
pub(super) fn revoked_jwt_key(jti: &str) -> GrantKey {
    GrantKey::derived("revoked_jwt", &[jti])
}

/// The marker that revokes JWT access token `jti` until it would have expired anyway.
pub(crate) fn revoked_jwt_marker(
    jti: &str,
    client_id: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> crate::store::Grant {
    crate::store::Grant {
        key: revoked_jwt_key(jti),
        kind: GrantKind::RevokedJwt,
        client_id: client_id.to_owned(),
        subject: None,
        family: None,
        issued_at: now,
        expires_at,
        consumed_at: None,
        payload: Vec::new(),
    }
}

impl Provider {
    /// The token if it is live: signed or stored by this server, unexpired, unrevoked.
    /// Store failures are errors; anything else about the token is simply `None`.
    pub(super) async fn lookup(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<ActiveToken>, ProtocolError> {
        if token.split('.').count() == 3 {
            return self.lookup_jwt(token, now).await;
        }
        self.lookup_reference(token, now).await
    }

    async fn lookup_jwt(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<ActiveToken>, ProtocolError> {
        let Ok(verified) = self.signer.verify(token) else {
            return Ok(None);
        };
        if verified.typ.as_deref() != Some(ACCESS_TOKEN_JWT_TYPE) {
            return Ok(None);
        }
        let Ok(claims) = serde_json::from_value::<AccessTokenClaims>(verified.claims.into()) else {
            return Ok(None);
        };
        if claims.iss != self.issuer || now.reached(Timestamp(claims.exp)) {
            return Ok(None);
        }
        if self
            .store
            .get(&revoked_jwt_key(&claims.jti))
            .await?
            .is_some()
        {
            return Ok(None);
        }
        Ok(Some(ActiveToken {
            client_id: claims.client_id,
            subject: Some(claims.sub),
            scope: claims.scope,
            audience: claims.aud,
            issued_at: Timestamp(claims.iat),
            expires_at: Timestamp(claims.exp),
            jti: claims.jti,
            form: TokenForm::Jwt,
        }))
    }

    async fn lookup_reference(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<ActiveToken>, ProtocolError> {
        let key = GrantKey::of_handle(token);
        let Some(grant) = self.store.get(&key).await? else {
            return Ok(None);
        };
        if grant.kind != GrantKind::ReferenceToken || now.reached(grant.expires_at) {
            return Ok(None);
        }
        let Ok(payload) = serde_json::from_slice::<ReferenceTokenPayload>(&grant.payload) else {
            tracing::error!(?key, "unreadable reference token payload");
            return Ok(None);
        };
        Ok(Some(ActiveToken {
            client_id: grant.client_id,
            subject: grant.subject,
            scope: payload.scopes.join(" "),
            audience: Audience::from_list(&payload.audiences),
            issued_at: grant.issued_at,
            expires_at: grant.expires_at,
            jti: payload.jti,
            form: TokenForm::Reference(key),
        }))
    }
}
