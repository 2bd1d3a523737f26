//! Values the browser carries but cannot read or change: JSON with an expiry, encrypted and
//! authenticated with the session secret from the shared key source through the core's
//! [`Sealer`] (the key ring implements it). Any pod opens what any other pod sealed.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sigil_core::time::Timestamp;

pub use sigil_core::sealing::{SealFailure, Sealer};

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
