//! `clients`: each client's grant types, redirect URIs, secrets or keys, scopes and token
//! settings, checked and turned into the core's [`sigil_core::model::Client`].

use super::Issues;
use super::resources::secrets;
use serde::Deserialize;
use sigil_core::grants::{AuthorizationCode, ClientCredentials};
use sigil_core::model::{
    AccessTokenFormat, Client, ClientJwk, OPENID, RefreshIssue, RefreshPolicy, ResponseType,
    SignInPolicy, TokenEndpointAuthMethod, WebOrigin,
};
use std::path::PathBuf;
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
    /// A file of more stored secrets, one per line (a mounted Kubernetes Secret), read when
    /// the configuration is loaded; a relative path is taken from the configuration file's
    /// directory.
    pub secrets_file: Option<PathBuf>,
    /// Public keys for `private_key_jwt`: a JWKS object (`{"keys": [...]}`).
    pub jwks: Option<RegisteredJwks>,
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
    /// Shown to users on the consent page; default: the client id.
    pub client_name: Option<String>,
    /// Where authorization responses may be sent; matched exactly.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Where users may be sent after logging out; matched exactly.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// `code`, `code id_token`, `id_token`, `id_token token`; default `[code]` for clients
    /// with the `authorization_code` grant type, none otherwise.
    pub response_types: Option<Vec<String>>,
    /// Authorization requests must carry a PKCE challenge. Default true; always for public
    /// clients.
    #[serde(default = "yes")]
    pub require_pkce: bool,
    /// Accept the `plain` PKCE method besides S256. Default false.
    #[serde(default)]
    pub allow_plain_pkce: bool,
    /// Ask users to consent to the scopes (remembered once given). Default true.
    #[serde(default = "yes")]
    pub require_consent: bool,
    /// When refresh tokens are issued and how long they live.
    #[serde(default)]
    pub refresh_token: RefreshTokenConfig,
    /// id_token lifetime. Default 5m.
    #[serde(default = "default_id_token_lifetime", with = "humantime_serde")]
    pub id_token_lifetime: Duration,
    /// The algorithm its id_tokens are signed with (OIDC Dynamic Client Registration §2):
    /// one of `signing.algorithms`. Default RS256.
    #[serde(default)]
    pub id_token_signed_response_alg: Option<sigil_keys::Algorithm>,
    /// How long an authorization code may wait to be redeemed. Default 60s.
    #[serde(default = "default_code_lifetime", with = "humantime_serde")]
    pub authorization_code_lifetime: Duration,
    /// Browser origins (`https://app.example.com`) whose scripts may call the token,
    /// userinfo, revocation and end-session endpoints (CORS). Default: none.
    #[serde(default)]
    pub allowed_cors_origins: Vec<String>,
}

/// A client's refresh tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshTokenConfig {
    /// `offline_access` (default): only when that scope is granted; `always`: on every sign-in.
    #[serde(default = "default_refresh_issue")]
    pub issue: RefreshIssueConfig,
    /// Each rotation extends the token family by this much. Default 14d.
    #[serde(default = "default_sliding_lifetime", with = "humantime_serde")]
    pub sliding_lifetime: Duration,
    /// ...but never past the sign-in plus this. Default 30d.
    #[serde(default = "default_absolute_lifetime", with = "humantime_serde")]
    pub absolute_lifetime: Duration,
    /// How long a rotated-out token still yields the same successor. Default 10s; 0s disables.
    #[serde(default = "default_grace_period", with = "humantime_serde")]
    pub grace_period: Duration,
}

impl Default for RefreshTokenConfig {
    fn default() -> Self {
        Self {
            issue: default_refresh_issue(),
            sliding_lifetime: default_sliding_lifetime(),
            absolute_lifetime: default_absolute_lifetime(),
            grace_period: default_grace_period(),
        }
    }
}

/// `refresh_token.issue` values.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshIssueConfig {
    /// Only when `offline_access` is granted.
    OfflineAccess,
    /// Whenever the user signs in through the client.
    Always,
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

fn yes() -> bool {
    true
}

fn default_id_token_lifetime() -> Duration {
    SignInPolicy::default().id_token_lifetime
}

fn default_code_lifetime() -> Duration {
    SignInPolicy::default().code_lifetime
}

fn default_refresh_issue() -> RefreshIssueConfig {
    RefreshIssueConfig::OfflineAccess
}

fn default_sliding_lifetime() -> Duration {
    RefreshPolicy::default().sliding_lifetime
}

fn default_absolute_lifetime() -> Duration {
    RefreshPolicy::default().absolute_lifetime
}

fn default_grace_period() -> Duration {
    RefreshPolicy::default().grace_period
}

/// Grant types of the authorization endpoint (RFC 7591 §2); clients list them in
/// `grant_types` although they are never sent to the token endpoint.
const IMPLICIT: &str = "implicit";
const AUTHORIZATION_CODE: &str = AuthorizationCode::GRANT_TYPE;
const CLIENT_CREDENTIALS: &str = ClientCredentials::GRANT_TYPE;

/// What client definitions may refer to.
pub(super) struct References<'a> {
    /// API scopes.
    pub scopes: &'a [&'a str],
    /// Identity scopes, the standard ones included.
    pub identity_scopes: &'a [&'a str],
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
    if config.secrets_file.is_some() {
        issues.push(
            format!("{path}.secrets_file"),
            super::secret_files::NOT_READ,
        );
    }
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
        let grant_path = format!("{path}.grant_types[{grant_index}]");
        if !refs.grant_types.contains(&grant_type.as_str()) && grant_type != IMPLICIT {
            issues.push(
                grant_path,
                format!(
                    "unsupported grant type `{grant_type}` (supported: {}, {IMPLICIT})",
                    refs.grant_types.join(", ")
                ),
            );
        } else if grant_type == CLIENT_CREDENTIALS && auth_method == TokenEndpointAuthMethod::None {
            issues.push(
                grant_path,
                "a public client (token_endpoint_auth_method: none) has no credentials, so it \
                 cannot use client_credentials",
            );
        }
    }
    for (scope_index, scope) in config.scopes.iter().enumerate() {
        if !refs.scopes.contains(&scope.as_str()) && !refs.identity_scopes.contains(&scope.as_str())
        {
            issues.push(
                format!("{path}.scopes[{scope_index}]"),
                format!("unknown scope `{scope}` (define it under api_scopes or identity_scopes)"),
            );
        }
    }
    let sign_in = sign_in_policy(config, auth_method, path, issues);
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
        sign_in,
    })
}

/// The client's sign-in policy, checked against its grant types and authentication method.
fn sign_in_policy(
    config: &ClientConfig,
    auth_method: TokenEndpointAuthMethod,
    path: &str,
    issues: &mut Issues,
) -> SignInPolicy {
    let has_grant = |grant_type: &str| config.grant_types.iter().any(|own| own == grant_type);
    let response_types = response_types(config, path, issues);
    let signs_in = has_grant(AUTHORIZATION_CODE) || has_grant(IMPLICIT);
    if has_grant(IMPLICIT) && !response_types.iter().any(|rt| rt.is_implicit()) {
        issues.push(
            format!("{path}.response_types"),
            "the implicit grant type needs `id_token` or `id_token token` here",
        );
    }
    if response_types.iter().any(|rt| rt.has_id_token())
        && !config.scopes.iter().any(|scope| scope == OPENID)
    {
        issues.push(
            format!("{path}.scopes"),
            "response types with an id_token need the openid scope",
        );
    }
    if signs_in && config.redirect_uris.is_empty() {
        issues.push(
            format!("{path}.redirect_uris"),
            "a client that signs users in needs at least one redirect URI",
        );
    }
    for (index, uri) in config.redirect_uris.iter().enumerate() {
        if let Err(error) = check_redirect_uri(uri) {
            issues.push_error(format!("{path}.redirect_uris[{index}]"), &error);
        }
    }
    for (index, uri) in config.post_logout_redirect_uris.iter().enumerate() {
        if let Err(error) = check_redirect_uri(uri) {
            issues.push_error(format!("{path}.post_logout_redirect_uris[{index}]"), &error);
        }
    }
    if let Some(name) = &config.client_name {
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            issues.push(
                format!("{path}.client_name"),
                "must be non-empty printable text",
            );
        }
    }
    if auth_method == TokenEndpointAuthMethod::None && !config.require_pkce {
        issues.push(
            format!("{path}.require_pkce"),
            "public clients must use PKCE: anyone can start a flow in their name, and only \
             the challenge binds the code to the app that asked for it",
        );
    }
    if config.id_token_lifetime.is_zero() {
        issues.push(
            format!("{path}.id_token_lifetime"),
            "must be longer than zero",
        );
    }
    if config.authorization_code_lifetime.is_zero() {
        issues.push(
            format!("{path}.authorization_code_lifetime"),
            "must be longer than zero",
        );
    }
    let allowed_cors_origins = cors_origins(config, path, issues);
    SignInPolicy {
        display_name: config.client_name.clone().unwrap_or_default(),
        redirect_uris: config.redirect_uris.clone(),
        post_logout_redirect_uris: config.post_logout_redirect_uris.clone(),
        response_types,
        require_pkce: config.require_pkce || auth_method == TokenEndpointAuthMethod::None,
        allow_plain_pkce: config.allow_plain_pkce,
        require_consent: config.require_consent,
        refresh: refresh_policy(
            &config.refresh_token,
            &format!("{path}.refresh_token"),
            issues,
        ),
        id_token_lifetime: config.id_token_lifetime,
        id_token_signed_response_alg: config.id_token_signed_response_alg.unwrap_or_default(),
        code_lifetime: config.authorization_code_lifetime,
        allowed_cors_origins,
    }
}

/// The client's CORS origins, each exactly as a browser sends it in `Origin` (compared
/// character for character, so a value no browser sends would silently never match).
fn cors_origins(config: &ClientConfig, path: &str, issues: &mut Issues) -> Vec<WebOrigin> {
    let mut origins: Vec<WebOrigin> = Vec::new();
    for (index, value) in config.allowed_cors_origins.iter().enumerate() {
        let item = format!("{path}.allowed_cors_origins[{index}]");
        match WebOrigin::parse(value) {
            Ok(origin) if origins.contains(&origin) => {
                issues.push(item, format!("`{origin}` is listed twice"));
            }
            Ok(origin) => origins.push(origin),
            Err(error) => issues.push(item, error.to_string()),
        }
    }
    origins
}

/// The parsed response types, each checked against the grant types.
fn response_types(config: &ClientConfig, path: &str, issues: &mut Issues) -> Vec<ResponseType> {
    let has_grant = |grant_type: &str| config.grant_types.iter().any(|own| own == grant_type);
    let Some(names) = &config.response_types else {
        return if has_grant(AUTHORIZATION_CODE) {
            vec![ResponseType::Code]
        } else {
            Vec::new()
        };
    };
    let mut parsed: Vec<ResponseType> = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let item = format!("{path}.response_types[{index}]");
        let Some(response_type) = ResponseType::parse(name) else {
            let supported: Vec<String> = ResponseType::ALL
                .iter()
                .map(|rt| format!("`{}`", rt.as_str()))
                .collect();
            issues.push(
                item,
                format!(
                    "unknown response type `{name}` (supported: {})",
                    supported.join(", ")
                ),
            );
            continue;
        };
        if response_type.has_code() && !has_grant(AUTHORIZATION_CODE) {
            issues.push(
                item,
                format!(
                    "`{}` returns a code: add authorization_code to grant_types",
                    response_type.as_str()
                ),
            );
        } else if response_type.is_implicit() && !has_grant(IMPLICIT) {
            issues.push(
                item,
                format!(
                    "`{}` is an implicit flow, which current advice (RFC 9700) discourages: \
                     add implicit to grant_types to use it anyway",
                    response_type.as_str()
                ),
            );
        }
        if !parsed.contains(&response_type) {
            parsed.push(response_type);
        }
    }
    parsed
}

fn refresh_policy(config: &RefreshTokenConfig, path: &str, issues: &mut Issues) -> RefreshPolicy {
    if config.sliding_lifetime.is_zero() {
        issues.push(
            format!("{path}.sliding_lifetime"),
            "must be longer than zero",
        );
    }
    if config.absolute_lifetime < config.sliding_lifetime {
        issues.push(
            format!("{path}.absolute_lifetime"),
            "must be at least sliding_lifetime",
        );
    }
    if !config.sliding_lifetime.is_zero() && config.grace_period >= config.sliding_lifetime {
        issues.push(
            format!("{path}.grace_period"),
            "must be shorter than sliding_lifetime",
        );
    }
    RefreshPolicy {
        issue: match config.issue {
            RefreshIssueConfig::OfflineAccess => RefreshIssue::OfflineAccess,
            RefreshIssueConfig::Always => RefreshIssue::Always,
        },
        sliding_lifetime: config.sliding_lifetime,
        absolute_lifetime: config.absolute_lifetime,
        grace_period: config.grace_period,
    }
}

/// A redirect URI is absolute and has no fragment (RFC 6749 §3.1.2): `https`, `http` (for
/// development and loopback apps), or an app's own scheme (`com.example.app:/callback`).
pub(super) fn check_redirect_uri(uri: &str) -> Result<(), RedirectUriError> {
    let url = url::Url::parse(uri).map_err(RedirectUriError::NotAbsolute)?;
    if url.fragment().is_some() || uri.contains('#') {
        return Err(RedirectUriError::Fragment);
    }
    if matches!(
        url.scheme(),
        "javascript" | "data" | "vbscript" | "file" | "blob"
    ) {
        return Err(RedirectUriError::CannotReceive(url.scheme().to_owned()));
    }
    if matches!(url.scheme(), "http" | "https") && url.host_str().is_none_or(str::is_empty) {
        return Err(RedirectUriError::NoHost);
    }
    Ok(())
}

/// Why a redirect URI is refused.
#[derive(Debug, thiserror::Error)]
pub(super) enum RedirectUriError {
    /// Not an absolute URL.
    #[error("must be an absolute URL")]
    NotAbsolute(#[source] url::ParseError),
    /// It has a fragment, which a redirect with a response would replace.
    #[error("must not contain a fragment (#…)")]
    Fragment,
    /// A scheme that runs or reads locally instead of reaching an app.
    #[error("the `{0}` scheme cannot receive a response")]
    CannotReceive(String),
    /// An http(s) URL without a host.
    #[error("must name a host")]
    NoHost,
}

/// A client's JWK Set as registered. A key's `alg` may be RFC 9864's fully specified
/// `Ed25519`, which the JWK parser predates: it is read as `EdDSA`, RFC 8037's name for the
/// same algorithm with the only EdDSA curve a client key can have.
#[derive(Debug, Clone)]
pub struct RegisteredJwks(jsonwebtoken::jwk::JwkSet);

impl<'de> Deserialize<'de> for RegisteredJwks {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut set = serde_json::Value::deserialize(deserializer)?;
        if let Some(keys) = set.get_mut("keys").and_then(|keys| keys.as_array_mut()) {
            for key in keys {
                if key.get("alg").and_then(|alg| alg.as_str()) == Some("Ed25519")
                    && key.get("kty").and_then(|kty| kty.as_str()) == Some("OKP")
                {
                    key["alg"] = serde_json::Value::from("EdDSA");
                }
            }
        }
        serde_json::from_value(set)
            .map(Self)
            .map_err(serde::de::Error::custom)
    }
}

fn client_jwks(
    config: &ClientConfig,
    method: TokenEndpointAuthMethod,
    path: &str,
    issues: &mut Issues,
) -> Vec<ClientJwk> {
    let Some(RegisteredJwks(set)) = &config.jwks else {
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
            Err(error) => {
                issues.push(format!("{path}.jwks.keys[{index}]"), error.to_string());
                None
            }
        })
        .collect()
}
