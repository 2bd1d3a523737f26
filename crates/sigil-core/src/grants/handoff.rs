//! The successor of a rotated refresh token, sealed under a key derived from the token it
//! replaces. Within the grace period a client presenting the old token again gets the same
//! successor back; only a holder of the old token can open it, and a copy of the store (which
//! holds only hashes of handles) opens nothing.

use crate::aead::SealingKey;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Sealed as `base64url(nonce || ciphertext || tag)` with no associated data (the layout of
/// [`crate::aead`]), under a key derived from the token the successor replaces.
fn key_for(previous_handle: &str) -> Option<SealingKey> {
    let mut hasher = Sha256::new();
    hasher.update(b"sigil refresh token handoff\0");
    hasher.update(previous_handle.as_bytes());
    let bytes: [u8; 32] = hasher.finalize().into();
    SealingKey::new(&bytes).ok()
}

/// Seals `successor` so that only a holder of `previous` can open it.
pub(crate) fn seal(previous: &str, successor: &str) -> Option<String> {
    let sealed = key_for(previous)?.seal(&[], successor.as_bytes()).ok()?;
    Some(URL_SAFE_NO_PAD.encode(sealed))
}

/// Opens what [`seal`] sealed with the same `previous`; `None` for anything else.
pub(crate) fn open(previous: &str, sealed: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    let plain = key_for(previous)?.open(&[], &bytes).ok()?;
    String::from_utf8(plain).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_previous_token_opens_its_successor() {
        let sealed = seal("old-token", "new-token").unwrap_or_default();
        assert_eq!(open("old-token", &sealed).as_deref(), Some("new-token"));
        assert_eq!(open("another-token", &sealed), None);
        assert_eq!(open("old-token", "not sealed"), None);
        assert_ne!(
            seal("old-token", "new-token"),
            Some(sealed),
            "fresh nonce each time"
        );
    }

    #[test]
    fn a_successor_sealed_before_the_shared_primitive_still_opens() {
        // Sealed by the handoff's own AES-GCM code, before it used `crate::aead`: a refresh
        // token rotated just before an upgrade must still hand over within its grace period.
        let sealed = "egr9EuZ3fJ0lzgVvWDm70Fx9bDCOatf7iKMEaPMFC6NmY5kEJ7d5au4u8g";
        assert_eq!(
            open("old-refresh-token", sealed).as_deref(),
            Some("successor-token")
        );
        assert_eq!(open("another-token", sealed), None);
    }
}
