//! `api_scopes` and `api_resources`: what access tokens can be for, with the resources'
//! introspection secrets.

use super::Issues;
use serde::Deserialize;
use sigil_core::model::{ApiResource, ApiScope, standard_identity_scopes};
use sigil_core::scope::is_scope_token;
use sigil_core::secret::SecretHash;
use std::path::PathBuf;

/// A scope an API offers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiScopeConfig {
    /// The scope token, such as `orders.read`.
    pub name: String,
    /// What it allows, for developers.
    pub description: Option<String>,
}

/// An API that accepts Sigil's tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiResourceConfig {
    /// Its resource indicator (RFC 8707) and token audience: an absolute URI.
    pub resource: String,
    /// Scopes that grant access to it (defined under `api_scopes`).
    pub scopes: Vec<String>,
    /// Stored secrets (`sha256:…` or argon2id) the API uses at the introspection endpoint,
    /// with `resource` as the Basic user name.
    #[serde(default)]
    pub introspection_secrets: Vec<String>,
    /// A file of more such secrets, one per line, read like a client's `secrets_file`.
    pub introspection_secrets_file: Option<PathBuf>,
}

pub(super) fn scopes(configs: &[ApiScopeConfig], issues: &mut Issues) -> Vec<ApiScope> {
    let mut scopes: Vec<ApiScope> = Vec::new();
    for (index, config) in configs.iter().enumerate() {
        let path = format!("api_scopes[{index}].name");
        if !is_scope_token(&config.name) {
            issues.push(
                path,
                format!(
                    "`{}` is not a valid scope token (RFC 6749 §3.3)",
                    config.name
                ),
            );
        } else if scopes.iter().any(|scope| scope.name == config.name) {
            issues.push(path, format!("scope `{}` is defined twice", config.name));
        } else if standard_identity_scopes()
            .iter()
            .any(|scope| scope.name == config.name)
        {
            issues.push(
                path,
                format!(
                    "`{}` is a standard identity scope (OpenID Connect); choose another name",
                    config.name
                ),
            );
        } else {
            scopes.push(ApiScope {
                name: config.name.clone(),
                description: config.description.clone(),
            });
        }
    }
    scopes
}

pub(super) fn resources(
    configs: &[ApiResourceConfig],
    scopes: &[&str],
    issues: &mut Issues,
) -> Vec<ApiResource> {
    let mut resources: Vec<ApiResource> = Vec::new();
    for (index, config) in configs.iter().enumerate() {
        let path = format!("api_resources[{index}]");
        match url::Url::parse(&config.resource) {
            Ok(url) if url.fragment().is_none() => {}
            Ok(_) => issues.push(format!("{path}.resource"), "must not contain a fragment"),
            Err(error) => issues.push(
                format!("{path}.resource"),
                format!("must be an absolute URI: {error}"),
            ),
        }
        if resources
            .iter()
            .any(|resource| resource.identifier == config.resource)
        {
            issues.push(
                format!("{path}.resource"),
                format!("resource `{}` is defined twice", config.resource),
            );
        }
        if config.scopes.is_empty() {
            issues.push(
                format!("{path}.scopes"),
                "a resource needs at least one scope",
            );
        }
        for (scope_index, scope) in config.scopes.iter().enumerate() {
            if !scopes.contains(&scope.as_str()) {
                issues.push(
                    format!("{path}.scopes[{scope_index}]"),
                    format!("unknown scope `{scope}` (define it under api_scopes)"),
                );
            }
        }
        if config.introspection_secrets_file.is_some() {
            issues.push(
                format!("{path}.introspection_secrets_file"),
                super::secret_files::NOT_READ,
            );
        }
        let introspection_secrets = secrets(
            &config.introspection_secrets,
            &format!("{path}.introspection_secrets"),
            issues,
        );
        resources.push(ApiResource {
            identifier: config.resource.clone(),
            scopes: config.scopes.clone(),
            introspection_secrets,
        });
    }
    resources
}

/// Parses stored secrets, recording each bad one under `path[index]`.
pub(super) fn secrets(stored: &[String], path: &str, issues: &mut Issues) -> Vec<SecretHash> {
    stored
        .iter()
        .enumerate()
        .filter_map(|(index, value)| match SecretHash::parse(value) {
            Ok(hash) => Some(hash),
            Err(error) => {
                issues.push(format!("{path}[{index}]"), error.to_string());
                None
            }
        })
        .collect()
}
