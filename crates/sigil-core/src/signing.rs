//! The signing contract: the core builds claims, a [`TokenSigner`] turns them into a JWS with
//! the [`Algorithm`] asked for.
//!
//! Implemented by `sigil-keys`' key ring with keys parsed once, so the core never touches key
//! material and never re-parses a key per request. A server signs with several algorithms side
//! by side: access tokens with one configured algorithm, ID tokens with the one each client
//! registered (RS256 by default, which OpenID Connect requires every provider to support).

use serde::{Deserialize, Serialize};

/// A JWS algorithm Sigil signs with. Parses from, displays as and serializes to its JOSE name
/// (`"RS256"`, `"PS256"`, `"ES256"`, `"EdDSA"`; case-sensitive; RFC 7518, RFC 8037).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: the default, accepted by every validator, and the one
    /// every OpenID provider must offer for ID tokens (OIDC Core §15.1).
    #[default]
    RS256,
    /// RSASSA-PSS with SHA-256 (MGF1 SHA-256, 32-byte salt).
    PS256,
    /// ECDSA on P-256 with SHA-256: about ten times faster to sign than RSA.
    ES256,
    /// Ed25519 (RFC 8037): the fastest to sign, not yet accepted by every validator.
    EdDSA,
}

impl Algorithm {
    /// Every algorithm.
    pub const ALL: [Self; 4] = [Self::RS256, Self::PS256, Self::ES256, Self::EdDSA];

    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    /// The algorithm for a JOSE name, if it is one Sigil signs with.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.as_str() == name)
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the supported JOSE algorithms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported signing algorithm `{0}` (RS256, PS256, ES256 or EdDSA)")]
pub struct UnknownAlgorithm(pub String);

impl std::str::FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::from_name(name).ok_or_else(|| UnknownAlgorithm(name.to_owned()))
    }
}

/// Why a token could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// No active key is loaded for the algorithm asked for.
    #[error("no active signing key for {0}")]
    NoActiveKey(String),
    /// The cryptographic operation failed.
    #[error("signing failed: {0}")]
    Crypto(String),
}

/// Why a JWT issued by this server did not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// Not a compact JWS, or its parts are not valid base64url / JSON.
    #[error("malformed token")]
    Malformed,
    /// The header names a key this server does not publish, or an algorithm that key is not for.
    #[error("unknown key or algorithm")]
    UnknownKey,
    /// The signature does not match.
    #[error("bad signature")]
    BadSignature,
}

/// A JWS whose signature checked out against one of this server's published keys.
#[derive(Debug, Clone)]
pub struct VerifiedJwt {
    /// The `typ` header, if present.
    pub typ: Option<String>,
    /// The claims, as a JSON object.
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// Signs claims with this server's active key for an algorithm.
///
/// Signing is `async` because a key may live in a vault that signs remotely; a local key
/// signs without awaiting anything.
#[async_trait::async_trait]
pub trait TokenSigner: Send + Sync + 'static {
    /// Signs `claims_json` (a serialized JSON object) as a compact JWS with the key active
    /// now for `alg`, whose header carries `alg`, `kid` and the given `typ` (such as `JWT`).
    /// Fails with [`SigningError::NoActiveKey`] if no key for `alg` is loaded.
    async fn sign_with(
        &self,
        alg: Algorithm,
        typ: &str,
        claims_json: &[u8],
    ) -> Result<String, SigningError>;

    /// The algorithm access tokens are signed with.
    fn access_token_algorithm(&self) -> Algorithm;

    /// Signs with the [access-token algorithm](Self::access_token_algorithm).
    async fn sign(&self, typ: &str, claims_json: &[u8]) -> Result<String, SigningError> {
        self.sign_with(self.access_token_algorithm(), typ, claims_json)
            .await
    }

    /// Checks a compact JWS against this server's published keys (for introspection).
    /// Claims such as `exp` and `iss` are left to the caller.
    fn verify(&self, token: &str) -> Result<VerifiedJwt, VerifyError>;
}
