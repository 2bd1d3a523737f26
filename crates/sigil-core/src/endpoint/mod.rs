//! The protocol behind each endpoint, without HTTP: the server parses the request, calls one
//! method of [`Provider`], and renders the result. Failures carry what the audit log needs.

mod browser_origin;
mod caller;
mod end_session;
mod introspection;
mod lookup;
mod provider;
mod revocation;
mod token;
mod userinfo;

#[cfg(test)]
mod tests;

pub use end_session::LogoutRequest;
pub use introspection::{IntrospectionResponse, IntrospectionSuccess};
pub(crate) use lookup::revoked_jwt_marker;
pub use provider::{Provider, ProviderSettings, SessionSettings};
pub use revocation::RevocationSuccess;
pub use token::TokenSuccess;

use crate::client_auth::AuthFailure;
use crate::error::ProtocolError;

/// A failed request: the error for the wire plus context for audit and metrics.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What the client is told.
    pub error: ProtocolError,
    /// The client the request claimed to be, if it said.
    pub client_id: Option<String>,
    /// Why client authentication failed, if it did.
    pub auth_failure: Option<AuthFailure>,
}

impl Failure {
    fn new(error: ProtocolError, client_id: Option<&str>) -> Self {
        Self {
            error,
            client_id: client_id.map(str::to_owned),
            auth_failure: None,
        }
    }
}
