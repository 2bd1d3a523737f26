//! Symmetric secrets that seal session cookies and CSRF tokens, shared by every pod.

use crate::KeyError;
use sigil_core::time::Timestamp;

/// The shortest secret accepted: 256 bits.
pub const MIN_SECRET_LEN: usize = 32;

/// One version of the session secret, with the same lifecycle as a signing key: published
/// (accepted when opening) from `created`, sealing from when the key ring says it is active,
/// accepted for the retention period after a newer one takes over.
#[derive(Clone)]
pub struct SessionSecret {
    id: String,
    bytes: Vec<u8>,
    created: Timestamp,
    not_before: Timestamp,
}

impl std::fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSecret")
            .field("id", &self.id)
            .field("created", &self.created)
            .field("not_before", &self.not_before)
            .finish_non_exhaustive()
    }
}

impl SessionSecret {
    /// A secret named `id` (unique within the source); refuses fewer than 32 bytes.
    pub fn new(id: impl Into<String>, bytes: Vec<u8>) -> Result<Self, KeyError> {
        if bytes.len() < MIN_SECRET_LEN {
            return Err(KeyError::ShortSecret(bytes.len()));
        }
        Ok(Self {
            id: id.into(),
            bytes,
            created: Timestamp(0),
            not_before: Timestamp(0),
        })
    }

    /// Generates 32 random bytes.
    pub fn generate(id: impl Into<String>) -> Result<Self, KeyError> {
        let mut bytes = vec![0u8; MIN_SECRET_LEN];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| KeyError::Generation)?;
        Self::new(id, bytes)
    }

    /// Records when the secret was created (it is accepted from then on).
    #[must_use]
    pub fn with_created(mut self, created: Timestamp) -> Self {
        self.created = created;
        self
    }

    /// Sets from when the secret may seal.
    #[must_use]
    pub fn with_not_before(mut self, not_before: Timestamp) -> Self {
        self.not_before = not_before;
        self
    }

    /// The secret's name.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// When it was created.
    pub fn created(&self) -> Timestamp {
        self.created
    }

    /// From when it may seal.
    pub fn not_before(&self) -> Timestamp {
        self.not_before
    }

    /// The secret bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}
