//! The configuration file: one YAML document, every field documented in
//! `deploy/sigil.example.yaml`, unknown fields rejected with the path of the offending field.
//!
//! Loading is two steps: [`Config::load`] parses (syntax, types, unknown fields) and
//! [`Config::validate`] checks meaning (references between sections, secret and key formats),
//! reporting every problem at once with its path.

mod clients;
mod identity_scopes;
mod issues;
mod resources;
mod secret_files;
pub mod server;
mod sessions;
mod signing;
pub mod store;
mod users;

pub use clients::ClientConfig;
pub use identity_scopes::IdentityScopeConfig;
pub use issues::Issues;
pub use resources::{ApiResourceConfig, ApiScopeConfig};
pub use server::ServerConfig;
pub use sessions::SessionsConfig;
pub use signing::{KeySourceConfig, SigningConfig};
pub use store::StoreConfig;
pub use users::UserConfig;

use serde::Deserialize;
use sigil_core::model::{Catalog, standard_identity_scopes};
use sigil_core::users::UserAccount;
use std::path::Path;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Issuer, listen address, data directory.
    #[serde(default)]
    pub server: ServerConfig,
    /// Signing algorithm and key source.
    #[serde(default)]
    pub signing: SigningConfig,
    /// Scopes that APIs offer.
    #[serde(default)]
    pub api_scopes: Vec<ApiScopeConfig>,
    /// APIs that accept tokens.
    #[serde(default)]
    pub api_resources: Vec<ApiResourceConfig>,
    /// Scopes that release user claims, besides the standard OpenID Connect ones.
    #[serde(default)]
    pub identity_scopes: Vec<IdentityScopeConfig>,
    /// Registered clients.
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    /// Users who sign in with a password.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// How long sign-ins and remembered consent last; the session cookie.
    #[serde(default)]
    pub sessions: SessionsConfig,
    /// The grant store cluster (`sigil serve` only).
    #[serde(default)]
    pub store: StoreConfig,
}

/// Why the file could not be parsed at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// YAML syntax, a wrong type, or an unknown field; the message starts with the path of
    /// the offending field (`clients[0]: unknown field …`) and ends with its line and column.
    #[error(transparent)]
    Parse(serde_yaml::Error),
    /// A `secrets_file` or `introspection_secrets_file` could not be read.
    #[error("{field}: cannot read {path}")]
    SecretsFile {
        /// The field naming the file.
        field: String,
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Config {
    /// Reads and parses a file, and the secrets files it names.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut config = Self::parse(&text)?;
        config.read_secret_files(path.parent().unwrap_or_else(|| Path::new(".")))?;
        Ok(config)
    }

    /// Parses YAML text.
    pub fn parse(text: &str) -> Result<Self, LoadError> {
        serde_yaml::from_str(text).map_err(LoadError::Parse)
    }

    /// Checks meaning and builds the catalog of clients, scopes and resources.
    /// `grant_types` are the grant types the server offers.
    pub fn validate(&self, grant_types: &[&str]) -> Result<Catalog, Issues> {
        let mut issues = Issues::default();
        self.server.validate(&mut issues);
        self.store.validate(&mut issues);
        self.sessions.validate(&mut issues);
        let scopes = resources::scopes(&self.api_scopes, &mut issues);
        let scope_names: Vec<&str> = scopes.iter().map(|scope| scope.name.as_str()).collect();
        let identity_scopes =
            identity_scopes::identity_scopes(&self.identity_scopes, &scope_names, &mut issues);
        let standard = standard_identity_scopes();
        let identity_scope_names: Vec<&str> = standard
            .iter()
            .chain(&identity_scopes)
            .map(|scope| scope.name.as_str())
            .collect();
        let api_resources = resources::resources(&self.api_resources, &scope_names, &mut issues);
        let clients = clients::clients(
            &self.clients,
            &clients::References {
                scopes: &scope_names,
                identity_scopes: &identity_scope_names,
                grant_types,
                resource_identifiers: &api_resources
                    .iter()
                    .map(|r| r.identifier.as_str())
                    .collect::<Vec<_>>(),
            },
            &mut issues,
        );
        users::accounts(&self.users, &mut issues);
        // Clients that sign users in verify id_tokens with the published keys too.
        let longest_token_lifetime = self
            .clients
            .iter()
            .flat_map(|client| {
                let signs_users_in = client
                    .grant_types
                    .iter()
                    .any(|grant| grant == "authorization_code" || grant == "implicit");
                let id_token = signs_users_in.then_some(client.id_token_lifetime);
                std::iter::once(client.access_token_lifetime).chain(id_token)
            })
            .max()
            .unwrap_or_default();
        self.validate_signing(longest_token_lifetime, &mut issues);
        issues.into_result(|| {
            Catalog::new(clients, scopes, api_resources).with_identity_scopes(identity_scopes)
        })
    }

    /// The users who sign in. Call after [`Config::validate`] succeeded: an account with
    /// problems (which validation reports) is left out here.
    pub fn user_accounts(&self) -> Vec<UserAccount> {
        users::accounts(&self.users, &mut Issues::default())
    }
}

#[cfg(test)]
mod tests;
