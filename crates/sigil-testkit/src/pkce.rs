//! PKCE (RFC 7636) from the client's side: [`Pkce`] makes a code verifier with its `S256` or
//! `plain` challenge, and [`random_string`] the unguessable values a client sends along
//! (verifiers, `state`, `nonce`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A PKCE code verifier and its challenge (RFC 7636).
#[derive(Debug, Clone)]
pub struct Pkce {
    /// The `code_verifier` (43 characters of base64url from 32 random bytes).
    pub verifier: String,
    /// The `code_challenge`.
    pub challenge: String,
    /// The `code_challenge_method`: `S256` or `plain`.
    pub method: &'static str,
}

impl Pkce {
    /// A random verifier with its `S256` challenge.
    pub fn s256() -> Self {
        let verifier = random_string(32);
        Self {
            challenge: s256_challenge(&verifier),
            verifier,
            method: "S256",
        }
    }

    /// A random verifier sent as its own (`plain`) challenge.
    pub fn plain() -> Self {
        let verifier = random_string(32);
        Self {
            challenge: verifier.clone(),
            verifier,
            method: "plain",
        }
    }
}

/// `BASE64URL(SHA256(verifier))` (RFC 7636 §4.2).
pub fn s256_challenge(verifier: &str) -> String {
    use sha2::Digest as _;
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// `bytes` random bytes, base64url without padding.
pub fn random_string(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    let _ = aws_lc_rs::rand::fill(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_is_unpadded_base64url_of_sha256() {
        // Computed independently: base64.urlsafe_b64encode(hashlib.sha256(v).digest()).
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K1uhbF9ItyIZUC8j4bE2Qc3tVg"),
            "PRzhvdLtwIrWvKPWKNIIs13cw0s8gtTMRwxxUfBmiGE"
        );
    }

    #[test]
    fn verifiers_are_43_fresh_characters_with_their_challenge() {
        let s256 = Pkce::s256();
        assert_eq!(s256.verifier.len(), 43);
        assert_eq!(s256.challenge, s256_challenge(&s256.verifier));
        assert_eq!(s256.method, "S256");
        let plain = Pkce::plain();
        assert_eq!(plain.challenge, plain.verifier);
        assert_eq!(plain.method, "plain");
        assert_ne!(s256.verifier, plain.verifier);
        assert!(
            s256.verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
}
