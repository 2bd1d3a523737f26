//! Who is calling: client authentication at the token, introspection and revocation endpoints.
//!
//! [`PresentedCredentials::extract`] reads what the request carries (exactly one method);
//! [`ClientAuthenticator::authenticate`] checks it against the client's registered method.
//! Every failure is the same `invalid_client` on the wire; [`AuthFailure`] keeps the reason
//! for the audit log.

mod assertion;
mod credentials;

pub use assertion::CLIENT_ASSERTION_TYPE_JWT_BEARER;
pub use credentials::PresentedCredentials;

use crate::model::{Catalog, Client};
use crate::store::GrantStore;
use crate::time::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// Why authentication failed; logged, never sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthFailure {
    /// No client with that id.
    #[error("unknown client")]
    UnknownClient,
    /// The client used a method other than its registered one.
    #[error("client must authenticate with {expected}, used {used}")]
    WrongMethod {
        /// The registered method.
        expected: &'static str,
        /// The method the request used.
        used: &'static str,
    },
    /// The secret did not match.
    #[error("wrong secret")]
    WrongSecret,
    /// The client assertion was invalid.
    #[error("invalid client assertion: {0}")]
    InvalidAssertion(String),
    /// The client assertion's `jti` was seen before.
    #[error("client assertion replayed")]
    ReplayedAssertion,
    /// A public client (it sent only its `client_id`) called an endpoint that only
    /// authenticated callers may use, such as introspection (RFC 7662 §2.1).
    #[error("public clients cannot use this endpoint")]
    PublicClient,
    /// The grant store could not record the assertion.
    #[error("grant store unavailable")]
    StoreUnavailable,
}

/// Authenticates clients; knows the audiences a client assertion must name.
#[derive(Debug, Clone)]
pub struct ClientAuthenticator {
    assertion_audiences: Vec<String>,
    max_assertion_lifetime: Duration,
}

impl ClientAuthenticator {
    /// `assertion_audiences`: values accepted as a client assertion's `aud` (the issuer and the
    /// endpoint URLs, per OIDC Core §9 and RFC 7523 §3).
    pub fn new(assertion_audiences: Vec<String>) -> Self {
        Self {
            assertion_audiences,
            max_assertion_lifetime: Duration::from_secs(300),
        }
    }

    /// Authenticates the caller, or says why not.
    pub async fn authenticate(
        &self,
        catalog: &Catalog,
        store: &dyn GrantStore,
        credentials: &PresentedCredentials,
        now: Timestamp,
    ) -> Result<Arc<Client>, AuthFailure> {
        let client = catalog
            .client(credentials.client_id())
            .ok_or(AuthFailure::UnknownClient)?;
        let used = credentials.method();
        if used != client.auth_method {
            return Err(AuthFailure::WrongMethod {
                expected: client.auth_method.as_str(),
                used: used.as_str(),
            });
        }
        match credentials {
            PresentedCredentials::Basic { secret, .. }
            | PresentedCredentials::Post { secret, .. } => {
                if !crate::secret::matches_any(&client.secrets, secret) {
                    return Err(AuthFailure::WrongSecret);
                }
            }
            PresentedCredentials::Assertion { assertion, .. } => {
                let verified = assertion::verify(
                    client,
                    assertion,
                    &self.assertion_audiences,
                    self.max_assertion_lifetime,
                    now,
                )?;
                assertion::record_once(store, client, &verified, now).await?;
            }
            PresentedCredentials::None { .. } => {}
        }
        Ok(Arc::clone(client))
    }
}
