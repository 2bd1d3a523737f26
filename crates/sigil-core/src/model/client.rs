//! A registered client: how it authenticates, what it may ask for (grant types, scopes,
//! redirect URIs, origins) and how its tokens are issued (lifetimes, format, refresh policy).

use super::WebOrigin;
use crate::secret::SecretHash;
use crate::signing::Algorithm;
use std::time::Duration;

/// How a client proves its identity at the token endpoint (OIDC `token_endpoint_auth_method`).
/// A client is held to its one method, so a stolen secret cannot stand in for a private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenEndpointAuthMethod {
    /// HTTP Basic with the client id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A JWT signed with the client's private key (RFC 7523, OIDC Core §9).
    PrivateKeyJwt,
    /// A public client: no authentication.
    None,
}

impl TokenEndpointAuthMethod {
    /// The registered name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }

    /// Every method, for discovery metadata.
    pub const ALL: [Self; 4] = [
        Self::ClientSecretBasic,
        Self::ClientSecretPost,
        Self::PrivateKeyJwt,
        Self::None,
    ];
}

/// The form of the access tokens a client receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessTokenFormat {
    /// A signed RFC 9068 JWT that APIs validate locally.
    Jwt,
    /// An opaque handle that APIs introspect (RFC 7662); revocable at once.
    Reference,
}

/// One public key of a client, parsed once, for `private_key_jwt`.
#[derive(Clone)]
pub struct ClientJwk {
    /// The JWK's `kid`, if it has one.
    pub kid: Option<String>,
    /// The algorithm the key is for: from the JWK's `alg`, or implied by its key type.
    pub algorithms: Vec<jsonwebtoken::Algorithm>,
    /// The verification key.
    pub key: jsonwebtoken::DecodingKey,
}

impl std::fmt::Debug for ClientJwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientJwk")
            .field("kid", &self.kid)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

/// A registered OAuth client.
#[derive(Debug, Clone)]
pub struct Client {
    /// The client identifier.
    pub client_id: String,
    /// The one way this client authenticates.
    pub auth_method: TokenEndpointAuthMethod,
    /// Current secrets (several during a secret rotation), for the secret methods.
    pub secrets: Vec<SecretHash>,
    /// Public keys, for `private_key_jwt`.
    pub jwks: Vec<ClientJwk>,
    /// Grant types the client may use.
    pub grant_types: Vec<String>,
    /// Scopes the client may request; also the default when it requests none.
    pub scopes: Vec<String>,
    /// The form of its access tokens.
    pub access_token_format: AccessTokenFormat,
    /// How long its access tokens live.
    pub access_token_lifetime: Duration,
    /// How it signs users in (redirect URIs, response types, PKCE, consent, refresh tokens).
    pub sign_in: SignInPolicy,
}

/// An authorization endpoint `response_type` (OIDC Core §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ResponseType {
    /// `code`: the authorization code flow.
    Code,
    /// `code id_token`: the hybrid flow.
    CodeIdToken,
    /// `id_token`: implicit, sign-in only.
    IdToken,
    /// `id_token token`: implicit with an access token in the fragment.
    IdTokenToken,
}

impl ResponseType {
    /// Every response type, for discovery.
    pub const ALL: [Self; 4] = [
        Self::Code,
        Self::CodeIdToken,
        Self::IdToken,
        Self::IdTokenToken,
    ];

    /// Parses a `response_type` value; the order of its space-separated words does not matter.
    pub fn parse(value: &str) -> Option<Self> {
        let mut words: Vec<&str> = value.split(' ').filter(|w| !w.is_empty()).collect();
        words.sort_unstable();
        match words.as_slice() {
            ["code"] => Some(Self::Code),
            ["code", "id_token"] => Some(Self::CodeIdToken),
            ["id_token"] => Some(Self::IdToken),
            ["id_token", "token"] => Some(Self::IdTokenToken),
            _ => None,
        }
    }

    /// The registered value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::CodeIdToken => "code id_token",
            Self::IdToken => "id_token",
            Self::IdTokenToken => "id_token token",
        }
    }

    /// True if the response carries an authorization code.
    pub fn has_code(self) -> bool {
        matches!(self, Self::Code | Self::CodeIdToken)
    }

    /// True if the response carries an id_token.
    pub fn has_id_token(self) -> bool {
        !matches!(self, Self::Code)
    }

    /// True if the response carries an access token (implicit `id_token token`).
    pub fn has_access_token(self) -> bool {
        matches!(self, Self::IdTokenToken)
    }

    /// Implicit flows return everything from the authorization endpoint; current best
    /// practice (RFC 9700) advises against them, so a client must opt in.
    pub fn is_implicit(self) -> bool {
        matches!(self, Self::IdToken | Self::IdTokenToken)
    }
}

/// When a client receives refresh tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshIssue {
    /// Only when the `offline_access` scope is granted.
    OfflineAccess,
    /// Whenever the user signs in through the client.
    Always,
}

/// How a client's refresh tokens live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// When they are issued.
    pub issue: RefreshIssue,
    /// Each rotation gives the successor this long (sliding lifetime)...
    pub sliding_lifetime: Duration,
    /// ...but never past the original sign-in plus this (absolute lifetime).
    pub absolute_lifetime: Duration,
    /// How long a rotated-out token still yields the same successor (two tabs refreshing at
    /// once); zero disables the grace.
    pub grace_period: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            issue: RefreshIssue::OfflineAccess,
            sliding_lifetime: Duration::from_secs(14 * 24 * 3600),
            absolute_lifetime: Duration::from_secs(30 * 24 * 3600),
            grace_period: Duration::from_secs(10),
        }
    }
}

/// How a client signs users in through the authorization endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInPolicy {
    /// Shown on the consent page.
    pub display_name: String,
    /// Where responses may be sent; matched exactly, never by prefix or pattern.
    pub redirect_uris: Vec<String>,
    /// Where the user may be sent after logging out; matched exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// The response types it may request.
    pub response_types: Vec<ResponseType>,
    /// True if an authorization request must carry a PKCE challenge (always for public clients).
    pub require_pkce: bool,
    /// True if the `plain` PKCE method is accepted (S256 otherwise).
    pub allow_plain_pkce: bool,
    /// True if the user must consent to the scopes (once remembered, not asked again).
    pub require_consent: bool,
    /// Refresh tokens.
    pub refresh: RefreshPolicy,
    /// How long its id_tokens are valid.
    pub id_token_lifetime: Duration,
    /// The algorithm its id_tokens are signed with (`id_token_signed_response_alg`, OIDC
    /// Dynamic Client Registration §2; RS256 unless it registered another).
    pub id_token_signed_response_alg: Algorithm,
    /// How long an authorization code may wait to be redeemed.
    pub code_lifetime: Duration,
    /// Browser origins the client runs on (CORS): from these, scripts may call the token,
    /// userinfo, revocation and end-session endpoints and read the answers.
    pub allowed_cors_origins: Vec<WebOrigin>,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        Self {
            display_name: String::new(),
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            response_types: vec![ResponseType::Code],
            require_pkce: true,
            allow_plain_pkce: false,
            require_consent: true,
            refresh: RefreshPolicy::default(),
            id_token_lifetime: Duration::from_secs(300),
            id_token_signed_response_alg: Algorithm::RS256,
            code_lifetime: Duration::from_secs(60),
            allowed_cors_origins: Vec::new(),
        }
    }
}

impl Client {
    /// True for a public client (no authentication at the token endpoint).
    pub fn is_public(&self) -> bool {
        self.auth_method == TokenEndpointAuthMethod::None
    }

    /// The name to show users.
    pub fn display_name(&self) -> &str {
        if self.sign_in.display_name.is_empty() {
            &self.client_id
        } else {
            &self.sign_in.display_name
        }
    }

    /// True if `uri` is, character for character, one of its redirect URIs.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.sign_in.redirect_uris.iter().any(|own| own == uri)
    }

    /// True if `uri` is, character for character, one of its post-logout redirect URIs.
    pub fn has_post_logout_redirect_uri(&self, uri: &str) -> bool {
        self.sign_in
            .post_logout_redirect_uris
            .iter()
            .any(|own| own == uri)
    }

    /// True if `origin` (an `Origin` header) is, character for character, one of the
    /// browser origins the client registered.
    pub fn allows_cors_origin(&self, origin: &str) -> bool {
        self.sign_in
            .allowed_cors_origins
            .iter()
            .any(|own| own.as_str() == origin)
    }

    /// True if the client may use `grant_type`.
    pub fn allows_grant_type(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|allowed| allowed == grant_type)
    }

    /// True if the client may request `scope`.
    pub fn allows_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|allowed| allowed == scope)
    }
}

/// Why a key of a client's JWKS is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientJwkError {
    /// An elliptic curve other than P-256 and P-384.
    #[error("unsupported elliptic curve")]
    Curve,
    /// A symmetric (`oct`) key: `private_key_jwt` is about keys the server never holds.
    #[error("symmetric keys are not allowed for private_key_jwt")]
    Symmetric,
    /// A key type that is not RSA, EC or OKP.
    #[error("unsupported key type")]
    KeyType,
    /// An `alg` that is not a JWS algorithm.
    #[error("unsupported alg {0}")]
    Algorithm(String),
    /// An `alg` for another key type.
    #[error("alg {0} does not fit the key type")]
    Mismatch(String),
    /// The key's parameters do not make a key.
    #[error(transparent)]
    Key(jsonwebtoken::errors::Error),
}

impl ClientJwk {
    /// Parses one key of a client's JWKS, once, at configuration load. Symmetric keys are
    /// refused: `private_key_jwt` is about keys the server never holds.
    pub fn from_jwk(jwk: &jsonwebtoken::jwk::Jwk) -> Result<Self, ClientJwkError> {
        use jsonwebtoken::Algorithm as A;
        use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve};
        let implied = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => {
                vec![A::RS256, A::RS384, A::RS512, A::PS256, A::PS384, A::PS512]
            }
            AlgorithmParameters::EllipticCurve(params) => match params.curve {
                EllipticCurve::P256 => vec![A::ES256],
                EllipticCurve::P384 => vec![A::ES384],
                _ => return Err(ClientJwkError::Curve),
            },
            AlgorithmParameters::OctetKeyPair(_) => vec![A::EdDSA],
            AlgorithmParameters::OctetKey(_) => {
                return Err(ClientJwkError::Symmetric);
            }
            _ => return Err(ClientJwkError::KeyType),
        };
        let algorithms = match &jwk.common.key_algorithm {
            Some(declared) => {
                let declared: A = declared
                    .to_string()
                    .parse()
                    .map_err(|_| ClientJwkError::Algorithm(declared.to_string()))?;
                if !implied.contains(&declared) {
                    return Err(ClientJwkError::Mismatch(format!("{declared:?}")));
                }
                vec![declared]
            }
            None => implied,
        };
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(ClientJwkError::Key)?;
        Ok(Self {
            kid: jwk.common.key_id.clone(),
            algorithms,
            key,
        })
    }
}
