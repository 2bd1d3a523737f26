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
        let access = machine_access(request)?;
        let minted = self
            .minter
            .access_token(AccessTokenRequest {
                client: request.client,
                subject: &request.client.client_id,
                access: &access,
                now: request.now,
                family: None,
                jti: None,
            })
            .await?;
        Ok(TokenResponse {
            access_token: minted.token,
            token_type: "Bearer",
            expires_in: minted.expires_in,
            scope: Some(access.scope_string()),
            refresh_token: None,
            id_token: None,
        })
    }
}

/// Client credentials act for the client itself: no user, so no identity scopes. Asking for
/// one is `invalid_scope`; the client's default scopes simply leave them out.
fn machine_access(request: TokenRequest<'_>) -> Result<access::GrantedAccess, ProtocolError> {
    let requested = access::requested_scopes(request.client, request.params.get("scope"))?;
    let catalog = request.catalog;
    if requested.explicit {
        if let Some(identity) = requested
            .scopes
            .iter()
            .find(|scope| catalog.is_identity_scope(scope))
        {
            return Err(ProtocolError::invalid_scope(format!(
                "`{identity}` is about a user; client_credentials has none"
            )));
        }
    }
    let scopes = requested
        .scopes
        .filtered(|scope| !catalog.is_identity_scope(scope));
    if scopes.is_empty() {
        return Err(ProtocolError::invalid_scope(
            "the client has no API scopes to request",
        ));
    }
    let resources = access::requested_resources(catalog, request.client, request.params)?;
    access::resolve_scopes(catalog, scopes, requested.explicit, &resources)
}
