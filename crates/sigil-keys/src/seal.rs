//! Sealing small values (session cookies, CSRF tokens) with the shared session secret:
//! AES-256-GCM under a key derived per purpose with HKDF-SHA-256, the purpose also bound as
//! associated data, so a value sealed for one purpose never opens as another.
//!
//! Format: `base64url(secret id) "." base64url(nonce || ciphertext || tag)`. The id says which
//! secret version sealed it, so a value sealed before a rotation opens during retention.

use crate::SessionSecret;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Salt};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Why a value could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The source holds no session secret.
    #[error("no session secret is loaded")]
    NoSecret,
    /// Not a sealed value, sealed with a secret no longer (or never) known here, sealed for
    /// another purpose, or tampered with. Deliberately one case.
    #[error("the sealed value does not open")]
    Invalid,
    /// The cryptographic library failed.
    #[error("sealing failed")]
    Crypto,
}

struct AesKeyLen;

impl KeyType for AesKeyLen {
    fn len(&self) -> usize {
        AES_256_GCM.key_len()
    }
}

fn derive(secret: &SessionSecret, purpose: &str) -> Result<LessSafeKey, SealError> {
    let prk = Salt::new(HKDF_SHA256, b"sigil session seal v1").extract(secret.bytes());
    let info = [purpose.as_bytes()];
    let okm = prk
        .expand(&info, AesKeyLen)
        .map_err(|_| SealError::Crypto)?;
    let mut key = [0u8; 32];
    okm.fill(&mut key).map_err(|_| SealError::Crypto)?;
    let unbound = UnboundKey::new(&AES_256_GCM, &key).map_err(|_| SealError::Crypto)?;
    Ok(LessSafeKey::new(unbound))
}

/// Seals `plaintext` for `purpose` with `secret`.
pub(crate) fn seal(
    secret: &SessionSecret,
    purpose: &str,
    plaintext: &[u8],
) -> Result<String, SealError> {
    let key = derive(secret, purpose)?;
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| SealError::Crypto)?;
    let mut body = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(purpose.as_bytes()),
        &mut body,
    )
    .map_err(|_| SealError::Crypto)?;
    let mut sealed = URL_SAFE_NO_PAD.encode(secret.id());
    sealed.push('.');
    URL_SAFE_NO_PAD.encode_string([&nonce[..], &body].concat(), &mut sealed);
    Ok(sealed)
}

/// The id of the secret that sealed `sealed`.
pub(crate) fn secret_id(sealed: &str) -> Result<String, SealError> {
    let (id, _) = sealed.split_once('.').ok_or(SealError::Invalid)?;
    let id = URL_SAFE_NO_PAD.decode(id).map_err(|_| SealError::Invalid)?;
    String::from_utf8(id).map_err(|_| SealError::Invalid)
}

/// Opens `sealed` with `secret` (the one [`secret_id`] named).
pub(crate) fn open(
    secret: &SessionSecret,
    purpose: &str,
    sealed: &str,
) -> Result<Vec<u8>, SealError> {
    let (_, body) = sealed.split_once('.').ok_or(SealError::Invalid)?;
    let body = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| SealError::Invalid)?;
    let (nonce, ciphertext) = body.split_at_checked(NONCE_LEN).ok_or(SealError::Invalid)?;
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Invalid)?;
    let key = derive(secret, purpose)?;
    let mut buffer = ciphertext.to_vec();
    let plaintext = key
        .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut buffer)
        .map_err(|_| SealError::Invalid)?;
    Ok(plaintext.to_vec())
}
