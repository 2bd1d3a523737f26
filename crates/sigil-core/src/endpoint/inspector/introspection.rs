//! The introspection endpoint (RFC 7662).

use super::TokenInspector;
use super::lookup::{Accept, ActiveToken, TokenForm};
use crate::endpoint::caller::Caller;
use crate::error::Failure;
use crate::parameters::Parameters;
use crate::time::Timestamp;
use crate::tokens::Audience;
use serde::Serialize;

/// An RFC 7662 introspection response. Inactive tokens reveal nothing but `active: false`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IntrospectionResponse {
    /// Whether the token is live and the caller may see it.
    pub active: bool,
    /// Granted scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client the token was issued to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Audiences.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    /// Issuer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// Issued at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Token id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// `Bearer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
}

/// An answered introspection request.
#[derive(Debug, Clone)]
pub struct IntrospectionSuccess {
    /// The response body.
    pub response: IntrospectionResponse,
    /// Who asked: a resource identifier or a client id.
    pub caller: String,
}

impl TokenInspector {
    /// The introspection endpoint (RFC 7662). An API resource sees tokens issued for it; a
    /// client sees tokens issued to it; everything else is `active: false`.
    pub async fn introspect(
        &self,
        authorization: Option<&str>,
        params: &Parameters,
        now: Timestamp,
    ) -> Result<IntrospectionSuccess, Failure> {
        let caller = self
            .callers
            .authenticate_caller(authorization, params, now)
            .await?;
        let caller_id = match &caller {
            Caller::Resource(identifier) => identifier.clone(),
            Caller::Client(client) => client.client_id.clone(),
        };
        let failed = |error| Failure::new(error, Some(&caller_id));
        let token = params.require("token").map_err(failed)?;
        let active = self
            .lookup(token, Accept::AccessAndRefreshTokens, now)
            .await
            .map_err(failed)?;
        let response = match active {
            Some(token) if may_see(&caller, &token) => self.describe(token),
            _ => IntrospectionResponse::default(),
        };
        Ok(IntrospectionSuccess {
            response,
            caller: caller_id,
        })
    }

    fn describe(&self, token: ActiveToken) -> IntrospectionResponse {
        let is_refresh_token = matches!(token.form, TokenForm::Refresh);
        IntrospectionResponse {
            active: true,
            jti: token.jti().map(str::to_owned),
            scope: Some(token.scope),
            client_id: Some(token.client_id),
            sub: token.subject,
            aud: (!token.audience.is_empty()).then_some(token.audience),
            iss: Some(self.context.issuer.clone()),
            exp: Some(token.expires_at.as_secs()),
            iat: Some(token.issued_at.as_secs()),
            // RFC 7662 takes `token_type` from RFC 6749 §7.1, which types access tokens only.
            token_type: (!is_refresh_token).then_some("Bearer"),
        }
    }
}

/// An API sees access tokens issued for it; a client sees the tokens issued to it, including
/// its refresh tokens, which are never sent to APIs.
fn may_see(caller: &Caller, token: &ActiveToken) -> bool {
    match caller {
        Caller::Resource(identifier) => {
            !matches!(token.form, TokenForm::Refresh) && token.audience.contains(identifier)
        }
        Caller::Client(client) => token.client_id == client.client_id,
    }
}
