//! Values the browser carries but cannot read or change: JSON with an expiry, encrypted and
//! authenticated with the session secret from the shared key source (AES-256-GCM, a key per
//! purpose). Any pod opens what any other pod sealed.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sigil_core::time::Timestamp;

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

/// Seals and opens with the shared session secret (implemented by the key ring).
pub trait Sealer: Send + Sync + 'static {
    /// Encrypts `plaintext` for `purpose`; the result is URL- and cookie-safe.
    fn seal(&self, purpose: &str, plaintext: &[u8]) -> Result<String, SealFailure>;

    /// Decrypts a value sealed for `purpose`; `None` if it was not, or was tampered with.
    fn open(&self, purpose: &str, sealed: &str) -> Option<Vec<u8>>;
}

/// What is sealed: the value and when it stops being accepted.
#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope<T> {
    exp: u64,
    value: T,
}

/// Seals `value` for `purpose`, accepted until `expires_at`.
pub fn seal_json<T: Serialize>(
    sealer: &dyn Sealer,
    purpose: &str,
    value: &T,
    expires_at: Timestamp,
) -> Result<String, SealFailure> {
    let json = serde_json::to_vec(&Envelope {
        exp: expires_at.as_secs(),
        value,
    })
    .map_err(|error| SealFailure::Failed(Box::new(error)))?;
    sealer.seal(purpose, &json)
}

/// Opens a value sealed for `purpose` that has not expired.
pub fn open_json<T: DeserializeOwned>(
    sealer: &dyn Sealer,
    purpose: &str,
    sealed: &str,
    now: Timestamp,
) -> Option<T> {
    let json = sealer.open(purpose, sealed)?;
    let envelope: Envelope<T> = serde_json::from_slice(&json).ok()?;
    (!now.reached(Timestamp(envelope.exp))).then_some(envelope.value)
}

/// Purposes: a value sealed for one is useless as another.
pub mod purpose {
    /// A validated authorization request travelling through the login and consent pages.
    pub const AUTHORIZE_REQUEST: &str = "sigil/authorize-request";
    /// The session cookie.
    pub const SESSION: &str = "sigil/session";
    /// CSRF tokens in forms.
    pub const CSRF: &str = "sigil/csrf";
}
