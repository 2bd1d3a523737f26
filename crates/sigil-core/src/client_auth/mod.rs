//! Who is calling: client authentication at the token, introspection and revocation endpoints.
//!
//! [`PresentedCredentials::extract`] reads what the request carries (exactly one method);
//! [`ClientAuthenticator::authenticate`] checks it against the client's registered method.
//! Every failure is the same `invalid_client` on the wire — except a secret that could not be
//! checked yet (too many argon2id checks in progress), which is `temporarily_unavailable`:
//! nothing was learnt about it. [`AuthFailure`] keeps the reason for the audit log.

mod assertion;
mod credentials;

pub use assertion::CLIENT_ASSERTION_TYPE_JWT_BEARER;
pub use credentials::PresentedCredentials;

use crate::model::{Catalog, Client};
use crate::secret::{CheckRefused, SecretChecks, SecretHash, SecretOwner};
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
    /// The secret was not checked: too many expensive checks are in progress.
    #[error("secret not checked: {0}")]
    NotChecked(#[source] CheckRefused),
}

impl AuthFailure {
    /// False where nothing was decided about the client (the store could not be reached, or
    /// its secret was not checked): the request may be retried, and it is no sign of an
    /// attack on the client.
    pub fn is_decided(&self) -> bool {
        !matches!(self, Self::StoreUnavailable | Self::NotChecked(_))
    }
}

/// Authenticates clients; knows the audiences a client assertion must name and where
/// expensive secret checks run.
#[derive(Clone)]
pub struct ClientAuthenticator {
    assertion_audiences: Vec<String>,
    max_assertion_lifetime: Duration,
    checks: Arc<dyn SecretChecks>,
}

impl std::fmt::Debug for ClientAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuthenticator")
            .field("assertion_audiences", &self.assertion_audiences)
            .field("max_assertion_lifetime", &self.max_assertion_lifetime)
            .finish_non_exhaustive()
    }
}

impl ClientAuthenticator {
    /// `assertion_audiences`: values accepted as a client assertion's `aud` (the issuer and the
    /// endpoint URLs, per OIDC Core §9 and RFC 7523 §3). `checks` runs argon2id secret checks.
    pub fn new(assertion_audiences: Vec<String>, checks: Arc<dyn SecretChecks>) -> Self {
        Self {
            assertion_audiences,
            max_assertion_lifetime: Duration::from_secs(300),
            checks,
        }
    }

    /// Checks `presented` against the secrets `owner` (a client or an API) has stored.
    pub async fn check_secret(
        &self,
        owner: SecretOwner,
        stored: &[SecretHash],
        presented: &str,
    ) -> Result<(), AuthFailure> {
        match crate::secret::matches_any(stored, presented, owner, self.checks.as_ref()).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(AuthFailure::WrongSecret),
            Err(refused) => Err(AuthFailure::NotChecked(refused)),
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
                let owner = SecretOwner::Client(client.client_id.clone());
                self.check_secret(owner, &client.secrets, secret).await?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AccessTokenFormat;
    use crate::secret::InlineChecks;
    use crate::testing::{NOW, NoStore, client};
    use async_trait::async_trait;

    /// A checker whose bound is always reached.
    struct Busy;

    #[async_trait]
    impl SecretChecks for Busy {
        async fn check(
            &self,
            _: SecretOwner,
            _: Vec<SecretHash>,
            _: String,
        ) -> Result<bool, CheckRefused> {
            Err(CheckRefused::OwnerBusy)
        }
    }

    fn human_client_catalog() -> Catalog {
        let mut human = client("human", AccessTokenFormat::Jwt);
        human.secrets = vec![SecretHash::argon2id_of("chosen secret").unwrap()];
        Catalog::new(
            vec![human, client("generated", AccessTokenFormat::Jwt)],
            vec![],
            vec![],
        )
    }

    fn basic(client_id: &str, secret: &str) -> PresentedCredentials {
        PresentedCredentials::Basic {
            client_id: client_id.into(),
            secret: secret.into(),
        }
    }

    #[tokio::test]
    async fn argon2id_secrets_are_checked_by_the_injected_checker() {
        let catalog = human_client_catalog();
        // Secrets are checked without the store (only assertions are recorded there).
        let store = NoStore;
        let inline = ClientAuthenticator::new(vec![], Arc::new(InlineChecks));
        let right = inline
            .authenticate(&catalog, &store, &basic("human", "chosen secret"), NOW)
            .await;
        assert!(right.is_ok());
        let wrong = inline
            .authenticate(&catalog, &store, &basic("human", "guess"), NOW)
            .await;
        assert_eq!(wrong.unwrap_err(), AuthFailure::WrongSecret);

        // When the checker refuses, the secret is neither accepted nor called wrong; clients
        // with SHA-256 secrets never reach it.
        let busy = ClientAuthenticator::new(vec![], Arc::new(Busy));
        let refused = busy
            .authenticate(&catalog, &store, &basic("human", "chosen secret"), NOW)
            .await;
        assert_eq!(
            refused.unwrap_err(),
            AuthFailure::NotChecked(CheckRefused::OwnerBusy)
        );
        let generated = busy
            .authenticate(
                &catalog,
                &store,
                &basic("generated", crate::testing::SECRET),
                NOW,
            )
            .await;
        assert!(generated.is_ok());
    }
}
