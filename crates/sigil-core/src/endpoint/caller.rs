//! Authenticating the caller of an endpoint: a client, or (for introspection) an API resource.
//! Shared by the [`TokenService`](super::TokenService) and the
//! [`TokenInspector`](super::TokenInspector).

use crate::client_auth::{AuthFailure, ClientAuthenticator, PresentedCredentials};
use crate::context::Context;
use crate::error::{ErrorCode, Failure, ProtocolError};
use crate::model::Client;
use crate::parameters::Parameters;
use crate::secret::SecretOwner;
use crate::time::Timestamp;
use std::sync::Arc;

/// Who called an endpoint that APIs may also call.
#[derive(Debug, Clone)]
pub(super) enum Caller {
    /// An API resource, by identifier.
    Resource(String),
    /// A client.
    Client(Arc<Client>),
}

/// Authenticates the callers of the token, introspection and revocation endpoints.
pub(super) struct Callers {
    pub(super) context: Arc<Context>,
    authenticator: ClientAuthenticator,
}

impl Callers {
    /// Callers checked against `context`'s catalog by `authenticator`.
    pub(super) fn new(context: Arc<Context>, authenticator: ClientAuthenticator) -> Self {
        Self {
            context,
            authenticator,
        }
    }

    /// Authenticates a client; a request without credentials is `invalid_client`.
    pub(super) async fn authenticate_client(
        &self,
        authorization: Option<&str>,
        params: &Parameters,
        now: Timestamp,
    ) -> Result<Arc<Client>, Failure> {
        let credentials = PresentedCredentials::extract(authorization, params)
            .map_err(|error| Failure::new(error, params.get("client_id")))?
            .ok_or_else(|| Failure {
                error: ProtocolError::new(
                    ErrorCode::InvalidClient,
                    "client authentication is required",
                ),
                client_id: None,
                auth_failure: None,
            })?;
        self.authenticator
            .authenticate(
                &self.context.catalog,
                self.context.store.as_ref(),
                &credentials,
                now,
            )
            .await
            .map_err(|failure| auth_failed(failure, credentials.client_id()))
    }

    /// Authenticates an API resource (by its introspection secret) or else a confidential
    /// client: public clients prove nothing, so they may not call (RFC 7662 §2.1).
    pub(super) async fn authenticate_caller(
        &self,
        authorization: Option<&str>,
        params: &Parameters,
        now: Timestamp,
    ) -> Result<Caller, Failure> {
        let credentials = PresentedCredentials::extract(authorization, params)
            .map_err(|error| Failure::new(error, params.get("client_id")))?;
        if let Some(credentials) = &credentials {
            if let Some(resource) = self.context.catalog.resource(credentials.client_id()) {
                let secret = match credentials {
                    PresentedCredentials::Basic { secret, .. }
                    | PresentedCredentials::Post { secret, .. } => secret,
                    _ => {
                        let failure = AuthFailure::WrongMethod {
                            expected: "client_secret_basic",
                            used: credentials.method().as_str(),
                        };
                        return Err(auth_failed(failure, &resource.identifier));
                    }
                };
                let owner = SecretOwner::ApiResource(resource.identifier.clone());
                self.authenticator
                    .check_secret(owner, &resource.introspection_secrets, secret)
                    .await
                    .map_err(|failure| auth_failed(failure, &resource.identifier))?;
                return Ok(Caller::Resource(resource.identifier.clone()));
            }
        }
        if let Some(PresentedCredentials::None { client_id }) = &credentials {
            return Err(auth_failed(AuthFailure::PublicClient, client_id));
        }
        self.authenticate_client(authorization, params, now)
            .await
            .map(Caller::Client)
    }
}

fn auth_failed(failure: AuthFailure, client_id: &str) -> Failure {
    let error = match failure {
        AuthFailure::StoreUnavailable => ProtocolError::new(
            ErrorCode::TemporarilyUnavailable,
            "the grant store is unavailable; retry shortly",
        ),
        AuthFailure::NotChecked(_) => ProtocolError::new(
            ErrorCode::TemporarilyUnavailable,
            "too many authentication attempts for this client are in progress; retry shortly",
        ),
        _ => ProtocolError::invalid_client(),
    };
    Failure {
        error,
        client_id: Some(client_id.to_owned()),
        auth_failure: Some(failure),
    }
}
