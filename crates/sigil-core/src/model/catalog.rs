use super::{ApiResource, ApiScope, Client};
use std::collections::HashMap;
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
}

impl Catalog {
    /// Indexes already-validated definitions (configuration loading checks references and
    /// duplicates, with the path of each offending field).
    pub fn new(clients: Vec<Client>, scopes: Vec<ApiScope>, resources: Vec<ApiResource>) -> Self {
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
        }
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

    /// Every scope name, sorted (for discovery's `scopes_supported`).
    pub fn scope_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.scopes.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Number of registered clients.
    pub fn client_count(&self) -> usize {
        self.clients.len()
    }
}
