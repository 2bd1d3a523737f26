use super::{Failure, Provider};
use crate::grants::{TokenRequest, TokenResponse};
use crate::parameters::Parameters;
use crate::time::Timestamp;

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

impl Provider {
    /// The token endpoint (RFC 6749 §3.2): authenticate the client, check that a browser
    /// `origin` (the `Origin` header, if sent) may act for it, then dispatch on `grant_type`.
    pub async fn token(
        &self,
        authorization: Option<&str>,
        origin: Option<&str>,
        params: &Parameters,
        now: Timestamp,
    ) -> Result<TokenSuccess, Failure> {
        let client = self.authenticate_client(authorization, params, now).await?;
        self.check_browser_origin(&client, origin)?;
        let failed = |error| Failure::new(error, Some(&client.client_id));
        let grant_type = params.require("grant_type").map_err(failed)?;
        let request = TokenRequest {
            catalog: &self.catalog,
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
