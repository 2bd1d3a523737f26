//! The one AES-256-GCM primitive Sigil seals with: a 256-bit key, a fresh random nonce per
//! value, and the bytes `nonce || ciphertext || tag`.
//!
//! Two callers frame it differently and derive their keys differently — the refresh-token
//! handoff ([`crate::grants`]) from the token it replaces, the key ring's session sealing from
//! the shared session secret and a purpose — but neither writes its own nonce handling, tag
//! check or slicing. The layout is fixed: values sealed before this module existed still open.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

/// Why a value could not be sealed or opened. Opening fails in one way only, whatever the
/// cause (too short, wrong key, other associated data, tampered): telling them apart would
/// help no honest caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AeadError {
    /// The key, the random source or the cipher failed.
    #[error("AES-256-GCM sealing failed")]
    Crypto,
    /// The value was not sealed with this key and associated data, or was changed since.
    #[error("the sealed value does not open")]
    Invalid,
}

/// An AES-256-GCM key.
pub struct SealingKey(LessSafeKey);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

impl SealingKey {
    /// The key with these 32 bytes.
    pub fn new(bytes: &[u8; 32]) -> Result<Self, AeadError> {
        UnboundKey::new(&AES_256_GCM, bytes)
            .map(|key| Self(LessSafeKey::new(key)))
            .map_err(|_| AeadError::Crypto)
    }

    /// `nonce || ciphertext || tag` of `plaintext`, with `aad` authenticated alongside.
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, AeadError> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| AeadError::Crypto)?;
        let mut body = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut body,
            )
            .map_err(|_| AeadError::Crypto)?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + body.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&body);
        Ok(sealed)
    }

    /// The plaintext of what [`seal`](Self::seal) made with this key and the same `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, AeadError> {
        let (nonce, ciphertext) = sealed
            .split_at_checked(NONCE_LEN)
            .ok_or(AeadError::Invalid)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| AeadError::Invalid)?;
        let mut buffer = ciphertext.to_vec();
        let plaintext = self
            .0
            .open_in_place(nonce, Aad::from(aad), &mut buffer)
            .map_err(|_| AeadError::Invalid)?;
        Ok(plaintext.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SealingKey {
        SealingKey::new(&[byte; 32]).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn opens_only_with_the_same_key_and_associated_data() {
        let sealed = key(1).seal(b"purpose", b"value").unwrap_or_default();
        assert_eq!(key(1).open(b"purpose", &sealed), Ok(b"value".to_vec()));
        assert_eq!(key(2).open(b"purpose", &sealed), Err(AeadError::Invalid));
        assert_eq!(key(1).open(b"other", &sealed), Err(AeadError::Invalid));
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(key(1).open(b"purpose", &tampered), Err(AeadError::Invalid));
    }

    #[test]
    fn a_fresh_nonce_each_time_and_short_input_is_refused() {
        let first = key(1).seal(b"", b"value").unwrap_or_default();
        let second = key(1).seal(b"", b"value").unwrap_or_default();
        assert_ne!(first, second);
        assert_eq!(first.len(), NONCE_LEN + 5 + 16);
        for length in [0, NONCE_LEN - 1, NONCE_LEN, NONCE_LEN + 15] {
            assert_eq!(
                key(1).open(b"", &first[..length]),
                Err(AeadError::Invalid),
                "{length} bytes"
            );
        }
    }
}
