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
            .authenticate_client(authorization, params, now)
            .await?;
        self.callers.check_browser_origin(&client, origin)?;
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

#[cfg(test)]
mod tests {
    use crate::access::GrantedAccess;
    use crate::error::{ErrorCode, ProtocolError};
    use crate::grants::{
        BUILT_IN_GRANT_TYPES, ClientCredentials, GrantHandler, TokenRequest, TokenResponse,
    };
    use crate::parameters::Parameters;
    use crate::testing::{EXTENSION_GRANT_TYPE, NOW, SECRET, basic, services};
    use crate::tokens::{AccessTokenRequest, Minter};
    use std::sync::Arc;

    /// An extension grant: a token for the client itself, for the `orders` API.
    struct Stamp(Arc<Minter>);

    #[async_trait::async_trait]
    impl GrantHandler for Stamp {
        fn grant_type(&self) -> &str {
            EXTENSION_GRANT_TYPE
        }
        async fn handle(&self, request: TokenRequest<'_>) -> Result<TokenResponse, ProtocolError> {
            let access = GrantedAccess {
                scopes: crate::scope::ScopeSet::parse("orders.read")?,
                audiences: vec!["https://orders".into()],
            };
            let minted = self
                .0
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

    fn form(body: &str) -> Parameters {
        Parameters::parse(body.as_bytes(), &[]).unwrap()
    }

    #[test]
    fn built_in_list_matches_what_is_registered() {
        let (_, services) = services();
        assert_eq!(services.tokens.grant_types(), BUILT_IN_GRANT_TYPES);
    }

    #[tokio::test]
    async fn an_extension_grant_registers_and_is_served_like_a_built_in_one() {
        let (_, mut services) = services();
        let credentials = basic("ext-app", SECRET);
        let request = form(&format!("grant_type={EXTENSION_GRANT_TYPE}"));
        let unknown = services
            .tokens
            .token(Some(&credentials), None, &request, NOW)
            .await
            .unwrap_err();
        assert_eq!(unknown.error.code, ErrorCode::UnsupportedGrantType);

        let minter = Arc::clone(&services.context().minter);
        services
            .tokens
            .register_grant(Arc::new(Stamp(minter)))
            .unwrap();
        assert!(
            services
                .tokens
                .grant_types()
                .contains(&EXTENSION_GRANT_TYPE)
        );
        let issued = services
            .tokens
            .token(Some(&credentials), None, &request, NOW)
            .await
            .unwrap();
        assert_eq!(issued.grant_type, EXTENSION_GRANT_TYPE);
        assert_eq!(issued.client_id, "ext-app");
        let introspection = form(&format!("token={}", issued.response.access_token));
        let answer = services
            .inspector
            .introspect(Some(&basic("https://orders", SECRET)), &introspection, NOW)
            .await
            .unwrap();
        assert!(answer.response.active, "the extension's token is live");
        assert_eq!(answer.response.sub.as_deref(), Some("ext-app"));

        // The registry still checks the client: another client may not use it.
        let refused = services
            .tokens
            .token(Some(&basic("jwt-app", SECRET)), None, &request, NOW)
            .await
            .unwrap_err();
        assert_eq!(refused.error.code, ErrorCode::UnauthorizedClient);
    }

    #[test]
    fn a_grant_type_cannot_be_registered_twice() {
        let (_, mut services) = services();
        let minter = Arc::clone(&services.context().minter);
        let again = services
            .tokens
            .register_grant(Arc::new(ClientCredentials::new(Arc::clone(&minter))));
        assert!(again.is_err(), "client_credentials is built in");
        assert!(
            services
                .tokens
                .register_grant(Arc::new(Stamp(Arc::clone(&minter))))
                .is_ok()
        );
        assert!(
            services
                .tokens
                .register_grant(Arc::new(Stamp(minter)))
                .is_err()
        );
        assert_eq!(services.tokens.grant_types().len(), 4);
    }
}
