//! The successor of a rotated refresh token, sealed under a key derived from the token it
//! replaces. Within the grace period a client presenting the old token again gets the same
//! successor back; only a holder of the old token can open it, and a copy of the store (which
//! holds only hashes of handles) opens nothing.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

fn key_for(previous_handle: &str) -> Option<LessSafeKey> {
    let mut hasher = Sha256::new();
    hasher.update(b"sigil refresh token handoff\0");
    hasher.update(previous_handle.as_bytes());
    let bytes: [u8; 32] = hasher.finalize().into();
    UnboundKey::new(&AES_256_GCM, &bytes)
        .ok()
        .map(LessSafeKey::new)
}

/// Seals `successor` so that only a holder of `previous` can open it.
pub(crate) fn seal(previous: &str, successor: &str) -> Option<String> {
    let key = key_for(previous)?;
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    let mut sealed = successor.as_bytes().to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::empty(),
        &mut sealed,
    )
    .ok()?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Some(URL_SAFE_NO_PAD.encode(out))
}

/// Opens what [`seal`] sealed with the same `previous`; `None` for anything else.
pub(crate) fn open(previous: &str, sealed: &str) -> Option<String> {
    let key = key_for(previous)?;
    let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
    let (nonce, ciphertext) = bytes.split_at_checked(NONCE_LEN)?;
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buffer = ciphertext.to_vec();
    let plain = key.open_in_place(nonce, Aad::empty(), &mut buffer).ok()?;
    String::from_utf8(plain.to_vec()).ok()
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
}
