use crate::secret::SecretHash;
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
}

impl Client {
    /// True if the client may use `grant_type`.
    pub fn allows_grant_type(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|allowed| allowed == grant_type)
    }

    /// True if the client may request `scope`.
    pub fn allows_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|allowed| allowed == scope)
    }
}

impl ClientJwk {
    /// Parses one key of a client's JWKS, once, at configuration load. Symmetric keys are
    /// refused: `private_key_jwt` is about keys the server never holds.
    pub fn from_jwk(jwk: &jsonwebtoken::jwk::Jwk) -> Result<Self, String> {
        use jsonwebtoken::Algorithm as A;
        use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve};
        let implied = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => {
                vec![A::RS256, A::RS384, A::RS512, A::PS256, A::PS384, A::PS512]
            }
            AlgorithmParameters::EllipticCurve(params) => match params.curve {
                EllipticCurve::P256 => vec![A::ES256],
                EllipticCurve::P384 => vec![A::ES384],
                _ => return Err("unsupported elliptic curve".to_owned()),
            },
            AlgorithmParameters::OctetKeyPair(_) => vec![A::EdDSA],
            AlgorithmParameters::OctetKey(_) => {
                return Err("symmetric keys are not allowed for private_key_jwt".to_owned());
            }
            _ => return Err("unsupported key type".to_owned()),
        };
        let algorithms = match &jwk.common.key_algorithm {
            Some(declared) => {
                let declared: A = declared
                    .to_string()
                    .parse()
                    .map_err(|_| format!("unsupported alg {declared}"))?;
                if !implied.contains(&declared) {
                    return Err(format!("alg {declared:?} does not fit the key type"));
                }
                vec![declared]
            }
            None => implied,
        };
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
        Ok(Self {
            kid: jwk.common.key_id.clone(),
            algorithms,
            key,
        })
    }
}
