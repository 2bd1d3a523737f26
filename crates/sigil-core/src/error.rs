//! Protocol errors as values: each knows its RFC 6749 (§5.2) / RFC 7009 / RFC 8707 code and HTTP status.
//!
//! Internal failures become [`ErrorCode::ServerError`] (or `temporarily_unavailable` when the grant
//! store cannot be reached) with a generic description; the failure itself travels as the error's
//! cause to the HTTP layer, which logs it once — never to the wire.

use crate::store::ErrorCause;
use std::borrow::Cow;
use std::sync::Arc;

/// An OAuth 2.0 error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The request is missing a parameter, repeats one, or is otherwise malformed.
    InvalidRequest,
    /// Client authentication failed.
    InvalidClient,
    /// The grant (code, refresh token, assertion) is invalid, expired or revoked.
    InvalidGrant,
    /// The authenticated client may not use this grant type.
    UnauthorizedClient,
    /// The grant type is not supported by this server.
    UnsupportedGrantType,
    /// The requested scope is invalid, unknown, or not allowed for the client.
    InvalidScope,
    /// RFC 8707: the requested resource is invalid, unknown, or not allowed for the client.
    InvalidTarget,
    /// RFC 7009: the server does not support revoking this token type.
    UnsupportedTokenType,
    /// The authorization server does not support this `response_type` (or the client may not use it).
    UnsupportedResponseType,
    /// The user or the authorization server denied the request.
    AccessDenied,
    /// OIDC: `prompt=none` but the user must sign in.
    LoginRequired,
    /// OIDC: `prompt=none` but the user must consent.
    ConsentRequired,
    /// OIDC: the `request` parameter (a request object) is not supported.
    RequestNotSupported,
    /// OIDC: the `request_uri` parameter is not supported.
    RequestUriNotSupported,
    /// OIDC: the `registration` parameter is not supported.
    RegistrationNotSupported,
    /// RFC 6750: the access token is missing its way: expired, revoked, malformed (401).
    InvalidToken,
    /// RFC 6750: the access token lacks the scope the resource needs (403).
    InsufficientScope,
    /// An unexpected internal failure; details are logged, not returned.
    ServerError,
    /// A dependency (the grant store) is unavailable; the client may retry.
    TemporarilyUnavailable,
}

impl ErrorCode {
    /// The wire form of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::AccessDenied => "access_denied",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::RegistrationNotSupported => "registration_not_supported",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }

    /// The HTTP status the code is returned with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::InvalidClient | Self::InvalidToken => 401,
            Self::InsufficientScope => 403,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error returned to an OAuth client: a code and a human-readable description, and for
/// internal failures the cause, which never goes on the wire: the HTTP layer logs it once,
/// where it renders the error. Equality and `Display` look at code and description only.
#[derive(Debug, Clone)]
pub struct ProtocolError {
    /// The RFC error code.
    pub code: ErrorCode,
    /// `error_description`: safe to show to the client developer; never contains secrets.
    pub description: Cow<'static, str>,
    cause: Option<ErrorCause>,
}

impl PartialEq for ProtocolError {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code && self.description == other.description
    }
}

impl Eq for ProtocolError {}

impl ProtocolError {
    /// An error with the given code and description.
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            description: description.into(),
            cause: None,
        }
    }

    /// This error, caused by `cause` (kept for the log, never sent).
    pub fn caused_by(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.cause = Some(Arc::new(cause));
        self
    }

    /// The internal failure behind this error, if there was one.
    pub fn cause(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.cause.as_deref()
    }

    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// `invalid_client` with the one description every authentication failure shares, so a
    /// caller cannot tell an unknown client from a wrong secret.
    pub fn invalid_client() -> Self {
        Self::new(ErrorCode::InvalidClient, "client authentication failed")
    }

    /// `invalid_grant`.
    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    /// `invalid_scope`.
    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    /// `invalid_target`.
    pub fn invalid_target(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidTarget, description)
    }

    /// `server_error` with a generic description; attach the cause with [`Self::caused_by`].
    pub fn server_error() -> Self {
        Self::new(
            ErrorCode::ServerError,
            "the server could not complete the request",
        )
    }
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for ProtocolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}

/// An error and its sources, `: `-separated, as `anyhow` prints `{:#}`: how every error is
/// printed for a human (log lines, start-up errors, configuration problems). Each error's
/// `Display` says only its own level, so the chain names every cause once.
#[derive(Debug, Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}

/// A failed request at an endpoint a client authenticates to: the error for the wire plus
/// context for audit and metrics.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What the client is told.
    pub error: ProtocolError,
    /// The client the request claimed to be, if it said.
    pub client_id: Option<String>,
    /// Why client authentication failed, if it did.
    pub auth_failure: Option<crate::client_auth::AuthFailure>,
}

impl Failure {
    /// A failure of a request by `client_id` (if it said) after authentication.
    pub(crate) fn new(error: ProtocolError, client_id: Option<&str>) -> Self {
        Self {
            error,
            client_id: client_id.map(str::to_owned),
            auth_failure: None,
        }
    }
}

/// A `scope` parameter that is not one is `invalid_scope` (RFC 6749 §5.2).
impl From<crate::scope::ScopeError> for ProtocolError {
    fn from(error: crate::scope::ScopeError) -> Self {
        Self::invalid_scope(error.to_string())
    }
}

/// An unreachable store is `temporarily_unavailable` (the client may retry); any other store
/// failure is a `server_error`. The store error is kept as the cause.
impl From<crate::store::StoreError> for ProtocolError {
    fn from(error: crate::store::StoreError) -> Self {
        let answer = if error.is_unavailable() {
            Self::new(
                ErrorCode::TemporarilyUnavailable,
                "the grant store is unavailable; retry shortly",
            )
        } else {
            Self::server_error()
        };
        answer.caused_by(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;
    use std::error::Error as _;

    #[derive(Debug, thiserror::Error)]
    #[error("{what}")]
    struct Layer {
        what: &'static str,
        #[source]
        cause: Option<Box<Layer>>,
    }

    fn layer(what: &'static str, cause: Option<Layer>) -> Layer {
        Layer {
            what,
            cause: cause.map(Box::new),
        }
    }

    #[test]
    fn an_error_chain_prints_each_level_once_outermost_first() {
        let error = layer(
            "starting the server",
            Some(layer("binding 127.0.0.1:8080", Some(layer("in use", None)))),
        );
        assert_eq!(
            ErrorChain(&error).to_string(),
            "starting the server: binding 127.0.0.1:8080: in use"
        );
        assert_eq!(ErrorChain(&layer("alone", None)).to_string(), "alone");
    }

    #[test]
    fn a_store_failure_becomes_a_protocol_error_that_keeps_it_as_the_cause() {
        let unavailable: ProtocolError = StoreError::unavailable("read timed out").into();
        assert_eq!(unavailable.code, ErrorCode::TemporarilyUnavailable);
        let cause = unavailable.cause().map(ToString::to_string);
        assert_eq!(
            cause.as_deref(),
            Some("grant store unavailable: read timed out")
        );
        let broken = StoreError::internal_from("syncing", std::io::Error::other("disk full"));
        let failure: ProtocolError = broken.into();
        assert_eq!(
            failure,
            ProtocolError::server_error(),
            "the wire sees no cause"
        );
        assert_eq!(
            failure.to_string(),
            "server_error: the server could not complete the request"
        );
        let chain = failure.source().map(|cause| ErrorChain(cause).to_string());
        assert_eq!(
            chain.as_deref(),
            Some("grant store failure: syncing: disk full")
        );
    }
}
