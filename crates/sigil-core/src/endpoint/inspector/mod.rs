//! Introspection (RFC 7662), revocation (RFC 7009) and userinfo (OIDC Core §5.3): the
//! endpoints that take a token someone holds, and share one way of finding out what it is
//! ([`lookup`]).

mod introspection;
mod lookup;
mod revocation;
mod userinfo;

pub use introspection::{IntrospectionResponse, IntrospectionSuccess};
pub use revocation::RevocationSuccess;

use super::caller::Callers;
use crate::context::Context;
use crate::repository::{ReferenceTokens, RefreshTokens, RevokedJwts};
use std::sync::Arc;

/// Answers questions about tokens (introspection, userinfo) and revokes them.
pub struct TokenInspector {
    callers: Arc<Callers>,
    context: Arc<Context>,
    reference_tokens: ReferenceTokens,
    refresh_tokens: RefreshTokens,
    revoked_jwts: RevokedJwts,
}

impl TokenInspector {
    /// An inspector authenticating its callers with `callers`.
    pub(in crate::endpoint) fn new(callers: Arc<Callers>) -> Self {
        let context = Arc::clone(&callers.context);
        let store = &context.store;
        Self {
            reference_tokens: ReferenceTokens::new(Arc::clone(store)),
            refresh_tokens: RefreshTokens::new(Arc::clone(store)),
            revoked_jwts: RevokedJwts::new(Arc::clone(store)),
            callers,
            context,
        }
    }
}
