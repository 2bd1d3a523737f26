//! What a key source delivers.

use crate::{SessionSecret, SigningKey};

/// Everything a source holds: the signing keys, and the symmetric secrets that seal session
/// cookies and CSRF tokens. Both come from the same place so that every pod that can sign
/// can also open every other pod's sessions.
#[derive(Debug, Default)]
pub struct KeySet {
    /// Private (or remote) signing keys.
    pub signing: Vec<SigningKey>,
    /// Session secret versions.
    pub secrets: Vec<SessionSecret>,
}

impl KeySet {
    /// A set of these keys and secrets.
    pub fn new(signing: Vec<SigningKey>, secrets: Vec<SessionSecret>) -> Self {
        Self { signing, secrets }
    }

    /// True if the source holds nothing at all.
    pub fn is_empty(&self) -> bool {
        self.signing.is_empty() && self.secrets.is_empty()
    }
}
