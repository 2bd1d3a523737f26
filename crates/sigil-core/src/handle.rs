//! Handles (the opaque strings clients hold) and the keys the store files them under.
//!
//! A handle is 256 bits from the operating system's CSPRNG, base64url without padding. The store
//! only ever sees [`GrantKey`], the SHA-256 of the handle, so a copy of the store yields no
//! usable token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A fresh 256-bit random handle, base64url-encoded (43 characters).
pub fn new_handle() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The key a grant is stored under: SHA-256 of its handle, or of a domain-separated name
/// for records that have no handle (such as a client assertion's `jti`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GrantKey([u8; 32]);

impl GrantKey {
    /// The key for a handle a client presented.
    pub fn of_handle(handle: &str) -> Self {
        Self(Sha256::digest(handle.as_bytes()).into())
    }

    /// A key for a record named by several parts, separated by the domain so that parts of
    /// one kind can never collide with another kind's or with a handle's key.
    pub fn derived(domain: &str, parts: &[&str]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(domain.as_bytes());
        for part in parts {
            hasher.update([0u8]);
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        Self(hasher.finalize().into())
    }

    /// Rebuilds a key from its 32 bytes (as stored).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for GrantKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A prefix is enough to correlate log lines and too little to matter.
        let prefix = self.0.get(..6).unwrap_or_default();
        write!(f, "GrantKey({})", URL_SAFE_NO_PAD.encode(prefix))
    }
}

/// Identifies a family of grants that stand or fall together (a code and every token issued
/// from it, a chain of rotated refresh tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FamilyId([u8; 16]);

impl FamilyId {
    /// A fresh random family id.
    pub fn new_random() -> Self {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Rebuilds an id from its bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// A fresh token id (`jti`): 128 random bits, base64url.
pub fn new_token_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token id derived from a handle, so that whoever later presents the handle again (a code
/// replayed) can name the token issued from it without the store keeping the id.
pub fn derived_token_id(purpose: &str, handle: &str) -> String {
    let key = GrantKey::derived(purpose, &[handle]);
    URL_SAFE_NO_PAD.encode(key.as_bytes().get(..16).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_256_bit_and_distinct() {
        let a = new_handle();
        let b = new_handle();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).map(|v| v.len()).ok(), Some(32));
    }

    #[test]
    fn derived_keys_separate_domains_and_part_boundaries() {
        assert_ne!(
            GrantKey::derived("a", &["b"]),
            GrantKey::derived("b", &["a"])
        );
        assert_ne!(
            GrantKey::derived("x", &["ab", "c"]),
            GrantKey::derived("x", &["a", "bc"])
        );
        assert_ne!(GrantKey::derived("x", &["ab"]), GrantKey::of_handle("ab"));
    }
}
