//! APIs that accept access tokens (RFC 8707 resources) and the scopes they offer.

use crate::secret::SecretHash;

/// A scope an API offers, such as `orders.read`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiScope {
    /// The scope token.
    pub name: String,
    /// Shown to developers and, later, on consent pages.
    pub description: Option<String>,
}

/// An API that accepts access tokens: its identifier is the RFC 8707 `resource` value and the
/// tokens' `aud`.
#[derive(Debug, Clone)]
pub struct ApiResource {
    /// The resource indicator and audience, an absolute URI.
    pub identifier: String,
    /// The scopes that grant access to this API.
    pub scopes: Vec<String>,
    /// Secrets the API uses to call the introspection endpoint (HTTP Basic, with the
    /// identifier as user name).
    pub introspection_secrets: Vec<SecretHash>,
}

impl ApiResource {
    /// True if `scope` grants access to this API.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|own| own == scope)
    }
}
