//! `client_credentials` (RFC 6749 §4.4): a confidential client gets a token for itself.

use super::{GrantHandler, TokenRequest, TokenResponse};
use crate::access;
use crate::error::{ErrorCode, ProtocolError};
use crate::model::TokenEndpointAuthMethod;
use crate::tokens::{AccessTokenRequest, Minter};
use async_trait::async_trait;
use std::sync::Arc;

/// The client credentials grant.
pub struct ClientCredentials {
    minter: Arc<Minter>,
}

impl ClientCredentials {
    /// The `grant_type` value.
    pub const GRANT_TYPE: &'static str = "client_credentials";

    /// A handler minting through `minter`.
    pub fn new(minter: Arc<Minter>) -> Self {
        Self { minter }
    }
}

#[async_trait]
impl GrantHandler for ClientCredentials {
    fn grant_type(&self) -> &str {
        Self::GRANT_TYPE
    }

    async fn handle(&self, request: TokenRequest<'_>) -> Result<TokenResponse, ProtocolError> {
        if request.client.auth_method == TokenEndpointAuthMethod::None {
            return Err(ProtocolError::new(
                ErrorCode::UnauthorizedClient,
                "public clients cannot use client_credentials",
            ));
        }
        let access = access::resolve(request.catalog, request.client, request.params)?;
        let minted = self
            .minter
            .access_token(AccessTokenRequest {
                client: request.client,
                subject: &request.client.client_id,
                access: &access,
                now: request.now,
            })
            .await?;
        Ok(TokenResponse {
            access_token: minted.token,
            token_type: "Bearer",
            expires_in: minted.expires_in,
            scope: Some(access.scope_string()),
            refresh_token: None,
        })
    }
}
