//! The [`Authorizer`]: the service behind the authorization endpoint, the login and consent
//! pages, and logout. Its methods live next to what they decide: [`flow`](super::flow)
//! (authorize, continue, consent), [`login`](super::login) and [`throttle`](super::throttle)
//! (sign-in), [`issue`](super::issue) (the response), [`hint`](super::hint)
//! (`id_token_hint`) and [`logout`](super::logout) (end-session).

use super::throttle::LoginThrottle;
use crate::context::Context;
use crate::repository::{AuthorizationCodes, Consents, Sessions};
use std::sync::Arc;

/// Authorizes browsers' requests: signs users in, asks for consent, issues codes and tokens
/// from the authorization endpoint, and ends sessions.
pub struct Authorizer {
    pub(super) context: Arc<Context>,
    pub(super) codes: AuthorizationCodes,
    pub(super) sessions: Sessions,
    pub(super) consents: Consents,
}

impl Authorizer {
    /// An authorizer over the shared `context`.
    pub fn new(context: Arc<Context>) -> Self {
        let store = &context.store;
        Self {
            codes: AuthorizationCodes::new(Arc::clone(store)),
            sessions: Sessions::new(Arc::clone(store)),
            consents: Consents::new(Arc::clone(store)),
            context,
        }
    }

    /// How failed sign-ins are throttled (the server reads which proxies it trusts here).
    pub fn login_throttle(&self) -> &LoginThrottle {
        &self.context.sessions.login_throttle
    }
}
