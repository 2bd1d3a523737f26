//! Sealing small values (session cookies, CSRF tokens) with the shared session secret:
//! AES-256-GCM (the core's one primitive, [`sigil_core::aead`]) under a key derived per
//! purpose with HKDF-SHA-256, the purpose also bound as associated data, so a value sealed
//! for one purpose never opens as another.
//!
//! Format: `base64url(secret id) "." base64url(nonce || ciphertext || tag)`. The id says which
//! secret version sealed it, so a value sealed before a rotation opens during retention.

use crate::SessionSecret;
use aws_lc_rs::aead::AES_256_GCM;
use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Salt};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sigil_core::aead::{AeadError, SealingKey};

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

fn derive(secret: &SessionSecret, purpose: &str) -> Result<SealingKey, SealError> {
    let prk = Salt::new(HKDF_SHA256, b"sigil session seal v1").extract(secret.bytes());
    let info = [purpose.as_bytes()];
    let okm = prk
        .expand(&info, AesKeyLen)
        .map_err(|_| SealError::Crypto)?;
    let mut key = [0u8; 32];
    okm.fill(&mut key).map_err(|_| SealError::Crypto)?;
    SealingKey::new(&key).map_err(|_| SealError::Crypto)
}

impl From<AeadError> for SealError {
    fn from(error: AeadError) -> Self {
        match error {
            AeadError::Invalid => Self::Invalid,
            _ => Self::Crypto,
        }
    }
}

/// Seals `plaintext` for `purpose` with `secret`.
pub(crate) fn seal(
    secret: &SessionSecret,
    purpose: &str,
    plaintext: &[u8],
) -> Result<String, SealError> {
    let body = derive(secret, purpose)?.seal(purpose.as_bytes(), plaintext)?;
    let mut sealed = URL_SAFE_NO_PAD.encode(secret.id());
    sealed.push('.');
    URL_SAFE_NO_PAD.encode_string(body, &mut sealed);
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
    Ok(derive(secret, purpose)?.open(purpose.as_bytes(), &body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> SessionSecret {
        SessionSecret::new("v1", vec![7u8; 32]).unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn a_cookie_sealed_before_the_shared_primitive_still_opens() {
        // Sealed by the key ring's own AES-GCM code, before it used `sigil_core::aead`:
        // browsers keep cookies across an upgrade, and they must still open.
        let sealed = "djE.lFYvmpHfHxbAMITyH-nZNQIlRSvCuvQDzS069TwQINuCf_-NoEm8is0wff_PD2D_54KK";
        assert_eq!(secret_id(sealed).as_deref(), Ok("v1"));
        assert_eq!(
            open(&secret(), "sigil/session", sealed),
            Ok(br#"{"exp":1,"value":"old"}"#.to_vec())
        );
        assert_eq!(
            open(&secret(), "sigil/csrf", sealed),
            Err(SealError::Invalid),
            "another purpose"
        );
    }

    #[test]
    fn the_format_is_the_secret_id_then_the_sealed_body() {
        let sealed = seal(&secret(), "sigil/csrf", b"token").unwrap_or_default();
        assert!(sealed.starts_with("djE."), "{sealed}");
        assert_eq!(
            open(&secret(), "sigil/csrf", &sealed),
            Ok(b"token".to_vec())
        );
        assert_eq!(
            open(&secret(), "sigil/csrf", "djE.AAAA"),
            Err(SealError::Invalid)
        );
        assert_eq!(
            open(&secret(), "sigil/csrf", "no-dot"),
            Err(SealError::Invalid)
        );
    }
}
