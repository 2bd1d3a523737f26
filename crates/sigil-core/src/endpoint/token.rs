//! The token endpoint (RFC 6749 §3.2) and the grant registry behind it.

use super::caller::Callers;
use crate::error::Failure;
use crate::grants::{DuplicateGrantType, GrantHandler, Registry, TokenRequest, TokenResponse};
use crate::parameters::Parameters;
use crate::time::Timestamp;
use std::sync::Arc;

/// An issued token response, with what the audit log and metrics need.
#[derive(Debug, Clone)]
pub struct TokenSuccess {
    /// The response body.
    pub response: TokenResponse,
    /// The client the token was issued to.
    pub client_id: String,
    /// The grant type used (one of the registered ones).
    pub grant_type: String,
}

/// The token endpoint: authenticates the client, checks its browser origin, and dispatches
/// on `grant_type` to the registered handlers.
pub struct TokenService {
    callers: Arc<Callers>,
    registry: Registry,
}

impl TokenService {
    /// A token service with no grant types yet (see [`Self::register_grant`]).
    pub(super) fn new(callers: Arc<Callers>) -> Self {
        Self {
            callers,
            registry: Registry::new(),
        }
    }

    /// Adds a grant type; built-in and extension grants register here alike and are
    /// dispatched the same way.
    pub fn register_grant(
        &mut self,
        handler: Arc<dyn GrantHandler>,
    ) -> Result<(), DuplicateGrantType> {
        self.registry.register(handler)
    }

    /// Supported grant types, sorted, for discovery.
    pub fn grant_types(&self) -> Vec<&str> {
        self.registry.grant_types()
    }

    /// The token endpoint (RFC 6749 §3.2): authenticate the client, check that a browser
    /// `origin` (the `Origin` header, if sent) may act for it, then dispatch on `grant_type`.
    pub async fn token(
        &self,
        authorization: Option<&str>,
        origin: Option<&str>,
        params: &Parameters,
        now: Timestamp,
    ) -> Result<TokenSuccess, Failure> {
        let client = self
            .callers
            .authenticate_client_from(authorization, origin, params, now)
            .await?;
        let failed = |error| Failure::new(error, Some(&client.client_id));
        let grant_type = params.require("grant_type").map_err(failed)?;
        let request = TokenRequest {
            catalog: &self.callers.context.catalog,
            client: &client,
            params,
            now,
        };
        let response = self
            .registry
            .dispatch(grant_type, request)
            .await
            .map_err(failed)?;
        Ok(TokenSuccess {
            response,
            client_id: client.client_id.clone(),
            grant_type: grant_type.to_owned(),
        })
    }
}
