//! The sealing contract: values a browser carries but cannot read or change (the session
//! cookie, CSRF tokens, an authorization request between pages), sealed with the session
//! secret every pod shares, so any pod opens what any other sealed.
//!
//! Implemented by `sigil-keys`' shared key ring (the secret rotates with the keys); the HTTP
//! layer seals through `dyn` [`Sealer`] and never sees a secret. Like
//! [`TokenSigner`](crate::signing::TokenSigner), it keeps key material out of every crate
//! that does not load it.

/// Why a value could not be sealed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealFailure {
    /// No session secret is loaded yet (a pod whose key source is still empty): the request
    /// may be retried shortly.
    #[error("no session secret is loaded yet")]
    NoSecret,
    /// Encoding or encryption failed.
    #[error("sealing failed")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Seals and opens with the shared session secret.
pub trait Sealer: Send + Sync + 'static {
    /// Encrypts `plaintext` for `purpose`; the result is URL- and cookie-safe.
    fn seal(&self, purpose: &str, plaintext: &[u8]) -> Result<String, SealFailure>;

    /// Decrypts a value sealed for `purpose`; `None` if it was not, or was tampered with.
    fn open(&self, purpose: &str, sealed: &str) -> Option<Vec<u8>>;
}
