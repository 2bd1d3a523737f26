//! The [`Catalog`]: clients, scopes and API resources, indexed once for lookup on every
//! request.

use super::{ApiResource, ApiScope, Client, IdentityScope, standard_identity_scopes};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Clients, scopes and resources, indexed for lookup on every request.
///
/// Built once from validated configuration and shared read-only; a new catalog replaces the
/// old one as a whole when configuration changes.
#[derive(Debug, Default)]
pub struct Catalog {
    clients: HashMap<String, Arc<Client>>,
    scopes: HashMap<String, ApiScope>,
    resources: Vec<ApiResource>,
    identity_scopes: HashMap<String, IdentityScope>,
    /// Every client's `allowed_cors_origins`, for answering preflights before the client is
    /// known.
    cors_origins: HashSet<String>,
}

impl Catalog {
    /// Indexes already-validated definitions (configuration loading checks references and
    /// duplicates, with the path of each offending field).
    pub fn new(clients: Vec<Client>, scopes: Vec<ApiScope>, resources: Vec<ApiResource>) -> Self {
        let cors_origins = clients
            .iter()
            .flat_map(|client| &client.sign_in.allowed_cors_origins)
            .map(|origin| origin.as_str().to_owned())
            .collect();
        Self {
            clients: clients
                .into_iter()
                .map(|client| (client.client_id.clone(), Arc::new(client)))
                .collect(),
            scopes: scopes
                .into_iter()
                .map(|scope| (scope.name.clone(), scope))
                .collect(),
            resources,
            identity_scopes: standard_identity_scopes()
                .into_iter()
                .map(|scope| (scope.name.clone(), scope))
                .collect(),
            cors_origins,
        }
    }

    /// Adds identity scopes beyond the standard ones (`openid`, `profile`, `email`, `address`,
    /// `phone`, `offline_access`); a scope of the same name replaces the standard one.
    pub fn with_identity_scopes(mut self, scopes: Vec<IdentityScope>) -> Self {
        for scope in scopes {
            self.identity_scopes.insert(scope.name.clone(), scope);
        }
        self
    }

    /// The identity scope with this name.
    pub fn identity_scope(&self, name: &str) -> Option<&IdentityScope> {
        self.identity_scopes.get(name)
    }

    /// True if `scope` is an identity scope rather than an API scope.
    pub fn is_identity_scope(&self, scope: &str) -> bool {
        self.identity_scopes.contains_key(scope)
    }

    /// Every claim any identity scope releases, sorted (for discovery's `claims_supported`).
    pub fn claim_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .identity_scopes
            .values()
            .flat_map(|scope| scope.claims.iter().map(String::as_str))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The client with this id.
    pub fn client(&self, client_id: &str) -> Option<&Arc<Client>> {
        self.clients.get(client_id)
    }

    /// The scope with this name.
    pub fn scope(&self, name: &str) -> Option<&ApiScope> {
        self.scopes.get(name)
    }

    /// The resource with this identifier.
    pub fn resource(&self, identifier: &str) -> Option<&ApiResource> {
        self.resources
            .iter()
            .find(|resource| resource.identifier == identifier)
    }

    /// Every resource, in configuration order.
    pub fn resources(&self) -> &[ApiResource] {
        &self.resources
    }

    /// Every scope name, API and identity, sorted (for discovery's `scopes_supported`).
    pub fn scope_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .scopes
            .keys()
            .chain(self.identity_scopes.keys())
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names
    }

    /// True if some client registered `origin` (an `Origin` header) as a browser origin it
    /// runs on. Whether that origin may act for a given client is the client's to say
    /// ([`Client::allows_cors_origin`]).
    pub fn is_cors_origin(&self, origin: &str) -> bool {
        self.cors_origins.contains(origin)
    }

    /// Number of registered clients.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }
}
