//! Grant types. Each is a [`GrantHandler`] in its own file; built-in and extension grants
//! register the same way in the [`Registry`], which dispatches on `grant_type` — there is no
//! match over grant types anywhere else.

mod authorization_code;
mod client_credentials;
mod handoff;
mod refresh_token;
mod registry;

pub use crate::tokens::TokenResponse;
pub use authorization_code::AuthorizationCode;
pub use client_credentials::ClientCredentials;
pub use refresh_token::RefreshToken;
pub use registry::{DuplicateGrantType, Registry};

/// The grant types every provider offers without extensions.
pub const BUILT_IN_GRANT_TYPES: &[&str] = &[
    AuthorizationCode::GRANT_TYPE,
    ClientCredentials::GRANT_TYPE,
    RefreshToken::GRANT_TYPE,
];

use crate::error::ProtocolError;
use crate::model::{Catalog, Client};
use crate::parameters::Parameters;
use crate::time::Timestamp;
use async_trait::async_trait;
use std::sync::Arc;

/// An authenticated token request, as a handler sees it.
#[derive(Debug, Clone, Copy)]
pub struct TokenRequest<'a> {
    /// Registered clients, scopes and resources.
    pub catalog: &'a Catalog,
    /// The authenticated client.
    pub client: &'a Arc<Client>,
    /// The request's parameters.
    pub params: &'a Parameters,
    /// Request time.
    pub now: Timestamp,
}

/// Handles one grant type.
#[async_trait]
pub trait GrantHandler: Send + Sync + 'static {
    /// The `grant_type` value this handler serves.
    fn grant_type(&self) -> &str;

    /// Validates the request and issues tokens. The client is already authenticated and
    /// allowed this grant type.
    async fn handle(&self, request: TokenRequest<'_>) -> Result<TokenResponse, ProtocolError>;
}
