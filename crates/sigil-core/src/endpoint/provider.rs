use crate::authorize::LoginThrottle;
use crate::client_auth::ClientAuthenticator;
use crate::grants::{AuthorizationCode, RefreshToken};
use crate::grants::{ClientCredentials, DuplicateGrantType, GrantHandler, Registry};
use crate::model::{Catalog, UserStore};
use crate::secret::SecretChecks;
use crate::signing::TokenSigner;
use crate::store::GrantStore;
use crate::tokens::Minter;
use std::sync::Arc;
use std::time::Duration;

/// What a [`Provider`] is built from.
pub struct ProviderSettings {
    /// The issuer identifier (`iss`).
    pub issuer: String,
    /// Endpoint URLs a client assertion may name as `aud`, besides the issuer.
    pub assertion_audiences: Vec<String>,
    /// Clients, scopes and resources.
    pub catalog: Arc<Catalog>,
    /// The grant store.
    pub store: Arc<dyn GrantStore>,
    /// The signer (the key ring).
    pub signer: Arc<dyn TokenSigner>,
    /// Who can sign in.
    pub users: Arc<dyn UserStore>,
    /// Where argon2id client and API secrets are checked (bounded, off the request threads).
    pub secret_checks: Arc<dyn SecretChecks>,
    /// How long sign-ins and remembered consent last.
    pub sessions: SessionSettings,
}

/// How long sign-ins and remembered consent last, and how failed sign-ins are throttled.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// A sign-in session's lifetime.
    pub lifetime: Duration,
    /// How long remembered consent lasts.
    pub consent_lifetime: Duration,
    /// How failed sign-ins slow down further attempts.
    pub login_throttle: LoginThrottle,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            lifetime: Duration::from_secs(8 * 3600),
            consent_lifetime: Duration::from_secs(90 * 24 * 3600),
            login_throttle: LoginThrottle::default(),
        }
    }
}

/// The OAuth authorization server's protocol logic: one instance per process, shared by all
/// requests.
pub struct Provider {
    pub(crate) issuer: String,
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) store: Arc<dyn GrantStore>,
    pub(crate) signer: Arc<dyn TokenSigner>,
    pub(crate) users: Arc<dyn UserStore>,
    pub(crate) sessions: SessionSettings,
    pub(super) authenticator: ClientAuthenticator,
    pub(super) registry: Registry,
    minter: Arc<Minter>,
}

impl Provider {
    /// A provider with the built-in grant types registered.
    pub fn new(settings: ProviderSettings) -> Self {
        let minter = Arc::new(Minter::new(
            settings.issuer.clone(),
            Arc::clone(&settings.signer),
            Arc::clone(&settings.store),
        ));
        let mut audiences = vec![settings.issuer.clone()];
        audiences.extend(settings.assertion_audiences);
        let mut registry = Registry::new();
        let built_in: [Arc<dyn GrantHandler>; 3] = [
            Arc::new(ClientCredentials::new(Arc::clone(&minter))),
            Arc::new(AuthorizationCode::new(
                Arc::clone(&minter),
                Arc::clone(&settings.store),
            )),
            Arc::new(RefreshToken::new(
                Arc::clone(&minter),
                Arc::clone(&settings.store),
            )),
        ];
        for handler in built_in {
            // The built-in set has distinct grant types; a clash here is a programming error
            // caught by the tests, never by a request.
            let _ = registry.register(handler);
        }
        Self {
            issuer: settings.issuer,
            catalog: settings.catalog,
            store: settings.store,
            signer: settings.signer,
            users: settings.users,
            sessions: settings.sessions,
            authenticator: ClientAuthenticator::new(audiences, settings.secret_checks),
            registry,
            minter,
        }
    }

    /// Adds an extension grant; it is dispatched exactly like the built-in ones.
    pub fn register_grant(
        &mut self,
        handler: Arc<dyn GrantHandler>,
    ) -> Result<(), DuplicateGrantType> {
        self.registry.register(handler)
    }

    /// The minter, for extension grants and in-process self-issued tokens.
    pub fn minter(&self) -> &Arc<Minter> {
        &self.minter
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The catalog of clients, scopes and resources.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// How failed sign-ins are throttled (the server reads which proxies it trusts here).
    pub fn login_throttle(&self) -> &LoginThrottle {
        &self.sessions.login_throttle
    }

    /// Supported grant types, for discovery.
    pub fn grant_types(&self) -> Vec<&str> {
        self.registry.grant_types()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_list_matches_what_is_registered() {
        let (_, provider) = crate::testing::provider();
        assert_eq!(provider.grant_types(), crate::grants::BUILT_IN_GRANT_TYPES);
    }

    #[test]
    fn built_in_grant_types_do_not_clash() {
        let mut registry = Registry::new();
        struct Dummy;
        #[async_trait::async_trait]
        impl GrantHandler for Dummy {
            fn grant_type(&self) -> &str {
                "client_credentials"
            }
            async fn handle(
                &self,
                _: crate::grants::TokenRequest<'_>,
            ) -> Result<crate::grants::TokenResponse, crate::error::ProtocolError> {
                Err(crate::error::ProtocolError::server_error())
            }
        }
        assert!(registry.register(Arc::new(Dummy)).is_ok());
        assert!(registry.register(Arc::new(Dummy)).is_err());
    }
}
