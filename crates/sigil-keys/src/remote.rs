//! Keys whose private half never leaves another service (a Key Vault key, an HSM).

use crate::Algorithm;
use async_trait::async_trait;
use sigil_core::signing::SigningError;

/// Signs a digest somewhere else, such as Key Vault's `sign` operation.
///
/// The [`SigningKey`](crate::SigningKey) built with [`SigningKey::remote`](crate::SigningKey::remote)
/// computes the SHA-256 digest of the JWS signing input locally and sends only that; it
/// verifies with the public key it holds, so introspection and JWKS never call out.
#[async_trait]
pub trait RemoteSigner: Send + Sync + std::fmt::Debug {
    /// Signs `digest` (SHA-256 of the JWS signing input) with `alg` (RS256, PS256 or ES256)
    /// and returns the signature in JWS form: the modulus-length bytes for RSA, the fixed
    /// `r || s` (64 bytes) for P-256.
    async fn sign_digest(&self, alg: Algorithm, digest: &[u8]) -> Result<Vec<u8>, SigningError>;

    /// Names the key in logs, such as its URL. Never credentials.
    fn describe(&self) -> String;
}
