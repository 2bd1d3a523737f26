use super::Issues;
use super::resources::secrets;
use serde::Deserialize;
use sigil_core::model::{AccessTokenFormat, Client, ClientJwk, TokenEndpointAuthMethod};
use std::time::Duration;

/// A registered client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The client identifier.
    pub client_id: String,
    /// How it authenticates; default `client_secret_basic`.
    #[serde(default = "default_auth_method")]
    pub token_endpoint_auth_method: AuthMethodConfig,
    /// Stored secrets (`sha256:…` for generated secrets, argon2id for human-chosen ones).
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Public keys for `private_key_jwt`: a JWKS object (`{"keys": [...]}`).
    pub jwks: Option<jsonwebtoken::jwk::JwkSet>,
    /// Grant types it may use.
    pub grant_types: Vec<String>,
    /// Scopes it may request; also what it gets when it asks for none.
    pub scopes: Vec<String>,
    /// `jwt` (default) or `reference`.
    #[serde(default = "default_format")]
    pub access_token_format: FormatConfig,
    /// Access token lifetime, such as `15m` or `1h` (default).
    #[serde(default = "default_lifetime", with = "humantime_serde")]
    pub access_token_lifetime: Duration,
}

/// `token_endpoint_auth_method` values.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethodConfig {
    /// HTTP Basic.
    ClientSecretBasic,
    /// Secret in the body.
    ClientSecretPost,
    /// Signed JWT assertion.
    PrivateKeyJwt,
    /// Public client.
    None,
}

/// `access_token_format` values.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormatConfig {
    /// RFC 9068 JWT.
    Jwt,
    /// Reference token.
    Reference,
}

fn default_auth_method() -> AuthMethodConfig {
    AuthMethodConfig::ClientSecretBasic
}

fn default_format() -> FormatConfig {
    FormatConfig::Jwt
}

fn default_lifetime() -> Duration {
    Duration::from_secs(3600)
}

/// What client definitions may refer to.
pub(super) struct References<'a> {
    pub scopes: &'a [&'a str],
    pub grant_types: &'a [&'a str],
    pub resource_identifiers: &'a [&'a str],
}

pub(super) fn clients(
    configs: &[ClientConfig],
    refs: &References<'_>,
    issues: &mut Issues,
) -> Vec<Client> {
    let mut clients: Vec<Client> = Vec::new();
    for (index, config) in configs.iter().enumerate() {
        let path = format!("clients[{index}]");
        if let Some(client) = client(config, &path, refs, issues) {
            if clients
                .iter()
                .any(|existing| existing.client_id == client.client_id)
            {
                issues.push(
                    format!("{path}.client_id"),
                    format!("client `{}` is defined twice", client.client_id),
                );
            } else {
                clients.push(client);
            }
        }
    }
    clients
}

fn client(
    config: &ClientConfig,
    path: &str,
    refs: &References<'_>,
    issues: &mut Issues,
) -> Option<Client> {
    let before = issues.0.len();
    let id = &config.client_id;
    if id.is_empty() || id.chars().any(char::is_control) {
        issues.push(
            format!("{path}.client_id"),
            "must be non-empty printable text",
        );
    }
    if refs.resource_identifiers.contains(&id.as_str()) {
        issues.push(
            format!("{path}.client_id"),
            "must differ from every api_resources[].resource (both authenticate at introspection)",
        );
    }
    let auth_method = match config.token_endpoint_auth_method {
        AuthMethodConfig::ClientSecretBasic => TokenEndpointAuthMethod::ClientSecretBasic,
        AuthMethodConfig::ClientSecretPost => TokenEndpointAuthMethod::ClientSecretPost,
        AuthMethodConfig::PrivateKeyJwt => TokenEndpointAuthMethod::PrivateKeyJwt,
        AuthMethodConfig::None => TokenEndpointAuthMethod::None,
    };
    let secret_method = matches!(
        auth_method,
        TokenEndpointAuthMethod::ClientSecretBasic | TokenEndpointAuthMethod::ClientSecretPost
    );
    let hashes = secrets(&config.secrets, &format!("{path}.secrets"), issues);
    if secret_method && config.secrets.is_empty() {
        issues.push(
            format!("{path}.secrets"),
            format!("{} needs at least one secret", auth_method.as_str()),
        );
    }
    if !secret_method && !config.secrets.is_empty() {
        issues.push(
            format!("{path}.secrets"),
            format!("{} does not use secrets; remove them", auth_method.as_str()),
        );
    }
    let jwks = client_jwks(config, auth_method, path, issues);
    for (grant_index, grant_type) in config.grant_types.iter().enumerate() {
        if !refs.grant_types.contains(&grant_type.as_str()) {
            issues.push(
                format!("{path}.grant_types[{grant_index}]"),
                format!(
                    "unsupported grant type `{grant_type}` (supported: {})",
                    refs.grant_types.join(", ")
                ),
            );
        }
    }
    for (scope_index, scope) in config.scopes.iter().enumerate() {
        if !refs.scopes.contains(&scope.as_str()) {
            issues.push(
                format!("{path}.scopes[{scope_index}]"),
                format!("unknown scope `{scope}` (define it under api_scopes)"),
            );
        }
    }
    if config.access_token_lifetime.as_secs() == 0 {
        issues.push(
            format!("{path}.access_token_lifetime"),
            "must be at least one second",
        );
    }
    if issues.0.len() > before {
        return None;
    }
    Some(Client {
        client_id: id.clone(),
        auth_method,
        secrets: hashes,
        jwks,
        grant_types: config.grant_types.clone(),
        scopes: config.scopes.clone(),
        access_token_format: match config.access_token_format {
            FormatConfig::Jwt => AccessTokenFormat::Jwt,
            FormatConfig::Reference => AccessTokenFormat::Reference,
        },
        access_token_lifetime: config.access_token_lifetime,
    })
}

fn client_jwks(
    config: &ClientConfig,
    method: TokenEndpointAuthMethod,
    path: &str,
    issues: &mut Issues,
) -> Vec<ClientJwk> {
    let Some(set) = &config.jwks else {
        if method == TokenEndpointAuthMethod::PrivateKeyJwt {
            issues.push(
                format!("{path}.jwks"),
                "private_key_jwt needs the client's public keys",
            );
        }
        return Vec::new();
    };
    if method != TokenEndpointAuthMethod::PrivateKeyJwt {
        issues.push(
            format!("{path}.jwks"),
            "only private_key_jwt clients use jwks",
        );
    }
    if set.keys.is_empty() {
        issues.push(format!("{path}.jwks.keys"), "needs at least one key");
    }
    set.keys
        .iter()
        .enumerate()
        .filter_map(|(index, jwk)| match ClientJwk::from_jwk(jwk) {
            Ok(key) => Some(key),
            Err(message) => {
                issues.push(format!("{path}.jwks.keys[{index}]"), message);
                None
            }
        })
        .collect()
}
