//! Building the services once from the settings: one shared context, the built-in grant
//! types registered through the same path as extension grants.

use super::caller::Callers;
use super::inspector::TokenInspector;
use super::token::TokenService;
use crate::authorize::Authorizer;
use crate::client_auth::ClientAuthenticator;
use crate::context::{Context, ServiceSettings};
use crate::grants::{AuthorizationCode, ClientCredentials, GrantHandler, RefreshToken};
use crate::model::Catalog;
use std::sync::Arc;

/// Every service of one process, over one shared [`Context`]; what the HTTP layer holds.
pub struct Services {
    /// The token endpoint and its grant registry.
    pub tokens: TokenService,
    /// Introspection, revocation and userinfo.
    pub inspector: TokenInspector,
    /// The authorization endpoint, sign-in, consent, sessions and logout.
    pub authorizer: Authorizer,
    context: Arc<Context>,
}

impl Services {
    /// The services, with the built-in grant types registered. Extension grants register
    /// afterwards with [`TokenService::register_grant`].
    pub fn new(settings: ServiceSettings) -> Self {
        let context = Arc::new(Context::new(
            settings.issuer,
            settings.catalog,
            settings.store,
            settings.signer,
            settings.users,
            settings.sessions,
        ));
        let mut audiences = vec![context.issuer.clone()];
        audiences.extend(settings.assertion_audiences);
        let callers = Arc::new(Callers::new(
            Arc::clone(&context),
            ClientAuthenticator::new(audiences, settings.secret_checks),
        ));
        let mut tokens = TokenService::new(Arc::clone(&callers));
        for handler in built_in_grants(&context) {
            // The built-in set has distinct grant types; a clash here is a programming error
            // caught by the tests, never by a request.
            let _ = tokens.register_grant(handler);
        }
        Self {
            tokens,
            inspector: TokenInspector::new(callers),
            authorizer: Authorizer::new(Arc::clone(&context)),
            context,
        }
    }

    /// The shared context: issuer, catalog, store, signer, minter (for extension grants and
    /// in-process self-issued tokens).
    pub fn context(&self) -> &Arc<Context> {
        &self.context
    }

    /// The catalog of clients, scopes and resources.
    pub fn catalog(&self) -> &Catalog {
        &self.context.catalog
    }
}

/// The grant types every server offers ([`crate::grants::BUILT_IN_GRANT_TYPES`]).
fn built_in_grants(context: &Arc<Context>) -> [Arc<dyn GrantHandler>; 3] {
    [
        Arc::new(ClientCredentials::new(Arc::clone(&context.minter))),
        Arc::new(AuthorizationCode::new(
            Arc::clone(&context.minter),
            Arc::clone(&context.store),
        )),
        Arc::new(RefreshToken::new(
            Arc::clone(&context.minter),
            Arc::clone(&context.store),
        )),
    ]
}
