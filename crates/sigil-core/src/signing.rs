//! The signing contract: the core builds claims, a [`TokenSigner`] turns them into a JWS.
//!
//! Implemented by `sigil-keys`' key ring with keys parsed once, so the core never touches key
//! material and never re-parses a key per request.

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

/// Signs claims with this server's active key for the configured algorithm.
///
/// Signing is `async` because a key may live in a vault that signs remotely; a local key
/// signs without awaiting anything.
#[async_trait::async_trait]
pub trait TokenSigner: Send + Sync + 'static {
    /// Signs `claims_json` (a serialized JSON object) as a compact JWS whose header carries
    /// `alg`, `kid` and the given `typ` (such as `at+jwt`).
    async fn sign(&self, typ: &str, claims_json: &[u8]) -> Result<String, SigningError>;

    /// The JOSE name of the algorithm tokens are signed with (`RS256`, `ES256`, ...); it
    /// decides the hash behind an id_token's `at_hash` and `c_hash`.
    fn algorithm(&self) -> &'static str;

    /// Checks a compact JWS against this server's published keys (for introspection).
    /// Claims such as `exp` and `iss` are left to the caller.
    fn verify(&self, token: &str) -> Result<VerifiedJwt, VerifyError>;
}
