//! The [`Registry`]: which [`GrantHandler`] serves a `grant_type`. Built-in and extension
//! grants register the same way; dispatch checks the client may use the type first.

use super::{GrantHandler, TokenRequest, TokenResponse};
use crate::error::{ErrorCode, ProtocolError};
use std::collections::HashMap;
use std::sync::Arc;

/// Two handlers claimed the same `grant_type`.
#[derive(Debug, thiserror::Error)]
#[error("grant type `{0}` is registered twice")]
pub struct DuplicateGrantType(pub String);

/// The grant handlers this server offers, by `grant_type`.
#[derive(Default)]
pub struct Registry {
    handlers: HashMap<String, Arc<dyn GrantHandler>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a handler; built-in and extension grants register alike.
    pub fn register(&mut self, handler: Arc<dyn GrantHandler>) -> Result<(), DuplicateGrantType> {
        let grant_type = handler.grant_type().to_owned();
        if self.handlers.contains_key(&grant_type) {
            return Err(DuplicateGrantType(grant_type));
        }
        self.handlers.insert(grant_type, handler);
        Ok(())
    }

    /// Registered grant types, sorted (for discovery).
    pub fn grant_types(&self) -> Vec<&str> {
        let mut types: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
        types.sort_unstable();
        types
    }

    /// Routes the request to the handler for `grant_type`, after checking that the client
    /// may use it.
    pub async fn dispatch(
        &self,
        grant_type: &str,
        request: TokenRequest<'_>,
    ) -> Result<TokenResponse, ProtocolError> {
        let handler = self.handlers.get(grant_type).ok_or_else(|| {
            ProtocolError::new(
                ErrorCode::UnsupportedGrantType,
                "this grant type is not supported",
            )
        })?;
        if !request.client.allows_grant_type(grant_type) {
            return Err(ProtocolError::new(
                ErrorCode::UnauthorizedClient,
                "the client is not allowed to use this grant type",
            ));
        }
        handler.handle(request).await
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("grant_types", &self.grant_types())
            .finish()
    }
}
