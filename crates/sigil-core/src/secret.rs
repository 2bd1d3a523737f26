//! Client and API-resource secrets, stored only as hashes.
//!
//! Secrets Sigil generates carry 256 bits of entropy, so a single SHA-256 is enough to store
//! them and keeps authentication cheap on the hot path; they are compared in constant time.
//! Human-chosen secrets must be stored as argon2id hashes instead, which resist guessing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

const SHA256_PREFIX: &str = "sha256:";

/// A stored secret: `sha256:<base64url digest>` or an argon2id PHC string (`$argon2id$…`).
#[derive(Clone, PartialEq, Eq)]
pub enum SecretHash {
    /// SHA-256 of a high-entropy generated secret.
    Sha256([u8; 32]),
    /// An argon2id PHC string for a human-chosen secret.
    Argon2id(String),
}

/// Why a stored secret string was not accepted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretHashError {
    /// Neither form was recognised.
    #[error("expected `sha256:<base64url SHA-256>` or an argon2id hash (`$argon2id$...`)")]
    UnknownFormat,
    /// `sha256:` with a value that is not 32 bytes of base64url.
    #[error("the sha256 value must be 43 characters of base64url (32 bytes)")]
    BadSha256,
    /// An argon2id string that does not parse.
    #[error("invalid argon2id hash: {0}")]
    BadArgon2(String),
}

impl SecretHash {
    /// Parses the stored form.
    pub fn parse(stored: &str) -> Result<Self, SecretHashError> {
        if let Some(encoded) = stored.strip_prefix(SHA256_PREFIX) {
            let bytes = URL_SAFE_NO_PAD
                .decode(encoded)
                .map_err(|_| SecretHashError::BadSha256)?;
            let digest: [u8; 32] = bytes.try_into().map_err(|_| SecretHashError::BadSha256)?;
            return Ok(Self::Sha256(digest));
        }
        if stored.starts_with("$argon2id$") {
            let parsed = argon2::PasswordHash::new(stored)
                .map_err(|e| SecretHashError::BadArgon2(e.to_string()))?;
            if parsed.salt.is_none() || parsed.hash.is_none() {
                return Err(SecretHashError::BadArgon2(
                    "missing salt or hash".to_owned(),
                ));
            }
            return Ok(Self::Argon2id(stored.to_owned()));
        }
        Err(SecretHashError::UnknownFormat)
    }

    /// The SHA-256 form of a secret.
    pub fn sha256_of(secret: &str) -> Self {
        Self::Sha256(Sha256::digest(secret.as_bytes()).into())
    }

    /// An argon2id hash of a human-chosen secret, with the crate's recommended parameters.
    pub fn argon2id_of(secret: &str) -> Result<Self, SecretHashError> {
        use argon2::PasswordHasher as _;
        let salt = argon2::password_hash::SaltString::generate(
            &mut argon2::password_hash::rand_core::OsRng,
        );
        let hash = argon2::Argon2::default()
            .hash_password(secret.as_bytes(), &salt)
            .map_err(|e| SecretHashError::BadArgon2(e.to_string()))?;
        Ok(Self::Argon2id(hash.to_string()))
    }

    /// True if `presented` is the secret. SHA-256 digests are compared in constant time.
    pub fn verify(&self, presented: &str) -> bool {
        match self {
            Self::Sha256(expected) => {
                let actual: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
                actual.ct_eq(expected).into()
            }
            Self::Argon2id(phc) => {
                use argon2::PasswordVerifier as _;
                argon2::PasswordHash::new(phc)
                    .map(|hash| {
                        argon2::Argon2::default()
                            .verify_password(presented.as_bytes(), &hash)
                            .is_ok()
                    })
                    .unwrap_or(false)
            }
        }
    }
}

impl std::fmt::Display for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sha256(digest) => write!(f, "{SHA256_PREFIX}{}", URL_SAFE_NO_PAD.encode(digest)),
            Self::Argon2id(phc) => f.write_str(phc),
        }
    }
}

impl std::fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sha256(_) => f.write_str("SecretHash::Sha256(..)"),
            Self::Argon2id(_) => f.write_str("SecretHash::Argon2id(..)"),
        }
    }
}

/// True if `presented` matches any of `stored`. Every hash is checked, so the time taken does
/// not reveal which one matched (several are valid during a secret rotation).
pub fn matches_any(stored: &[SecretHash], presented: &str) -> bool {
    stored
        .iter()
        .fold(false, |found, hash| hash.verify(presented) | found)
}

/// A new high-entropy secret (256 bits, base64url) and its stored form.
pub fn generate_secret() -> (String, SecretHash) {
    let secret = crate::handle::new_handle();
    let hash = SecretHash::sha256_of(&secret);
    (secret, hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_round_trip_and_mismatch() {
        let (secret, hash) = generate_secret();
        let stored = hash.to_string();
        let parsed = SecretHash::parse(&stored).unwrap();
        assert!(parsed.verify(&secret));
        assert!(!parsed.verify("wrong"));
        assert!(!parsed.verify(""));
    }

    #[test]
    fn argon2id_round_trip_and_mismatch() {
        let hash = SecretHash::argon2id_of("correct horse battery staple").unwrap();
        let parsed = SecretHash::parse(&hash.to_string()).unwrap();
        assert!(parsed.verify("correct horse battery staple"));
        assert!(!parsed.verify("correct horse battery stapler"));
    }

    #[test]
    fn rejects_plaintext_and_malformed_hashes() {
        assert_eq!(
            SecretHash::parse("secret"),
            Err(SecretHashError::UnknownFormat)
        );
        assert_eq!(
            SecretHash::parse("sha256:abc"),
            Err(SecretHashError::BadSha256)
        );
        assert!(matches!(
            SecretHash::parse("$argon2id$garbage"),
            Err(SecretHashError::BadArgon2(_))
        ));
    }

    #[test]
    fn debug_never_prints_the_hash() {
        let (_, hash) = generate_secret();
        assert!(!format!("{hash:?}").contains(&hash.to_string()[7..]));
    }
}
