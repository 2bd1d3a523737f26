//! What every service shares: the issuer, the catalog, the grant store, the signer, the
//! minter, the user store and the session settings, built once from [`ServiceSettings`] and held by
//! each service behind an `Arc`.

use crate::authorize::LoginThrottle;
use crate::model::{Catalog, UserStore};
use crate::secret::SecretChecks;
use crate::signing::TokenSigner;
use crate::store::GrantStore;
use crate::tokens::Minter;
use std::sync::Arc;
use std::time::Duration;

/// What the services are built from (see [`crate::endpoint::Services::new`]).
pub struct ServiceSettings {
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

/// The state the services share: one per process, read by every request.
pub struct Context {
    /// The issuer identifier.
    pub issuer: String,
    /// Clients, scopes and resources.
    pub catalog: Arc<Catalog>,
    /// The grant store.
    pub store: Arc<dyn GrantStore>,
    /// The signer (the key ring).
    pub signer: Arc<dyn TokenSigner>,
    /// Mints access tokens and id_tokens.
    pub minter: Arc<Minter>,
    /// Who can sign in.
    pub users: Arc<dyn UserStore>,
    /// Session and consent lifetimes, and the sign-in throttle.
    pub sessions: SessionSettings,
}

impl Context {
    /// The shared state for `issuer`; the minter is built here, once.
    pub fn new(
        issuer: String,
        catalog: Arc<Catalog>,
        store: Arc<dyn GrantStore>,
        signer: Arc<dyn TokenSigner>,
        users: Arc<dyn UserStore>,
        sessions: SessionSettings,
    ) -> Self {
        let minter = Arc::new(Minter::new(
            issuer.clone(),
            Arc::clone(&signer),
            Arc::clone(&store),
        ));
        Self {
            issuer,
            catalog,
            store,
            signer,
            minter,
            users,
            sessions,
        }
    }
}
