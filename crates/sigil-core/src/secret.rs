//! Client and API-resource secrets, stored only as hashes.
//!
//! Secrets Sigil generates carry 256 bits of entropy, so a single SHA-256 is enough to store
//! them and keeps authentication cheap on the hot path; they are compared in constant time.
//! Human-chosen secrets must be stored as argon2id hashes instead, which resist guessing —
//! and cost tens of milliseconds of CPU and 19 MiB of memory per check, so servers run those
//! checks through [`SecretChecks`] (bounded, on threads of their own), each thread reusing
//! one [`HashMemory`].

mod checks;

pub use checks::{CheckRefused, InlineChecks, SecretChecks, SecretOwner, matches_any};

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

/// An argon2id hash that could not be checked against a presented secret. Hashes are
/// parsed when the configuration loads, so this is a failure of the check itself.
#[derive(Debug, thiserror::Error)]
#[error("checking an argon2id hash")]
pub struct UncheckableHash(#[source] argon2::password_hash::Error);

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
    /// An argon2id hash whose memory cost is above what one check may use.
    #[error("the argon2id memory cost m={0} KiB is above the limit of {MAX_ARGON2_MEMORY_KIB} KiB")]
    Argon2TooLarge(u32),
}

/// The most memory one argon2id check may take (256 MiB); every checking thread keeps a buffer
/// of the largest size it has used, so this bounds memory per thread.
pub const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;

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
            let params = argon2::Params::try_from(&parsed)
                .map_err(|e| SecretHashError::BadArgon2(e.to_string()))?;
            if params.m_cost() > MAX_ARGON2_MEMORY_KIB {
                return Err(SecretHashError::Argon2TooLarge(params.m_cost()));
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

    /// True if checking this hash is expensive (argon2id): such checks belong on
    /// [`SecretChecks`], never on a thread that serves requests.
    pub fn is_expensive(&self) -> bool {
        matches!(self, Self::Argon2id(_))
    }

    /// True if `presented` is the secret; a hash that cannot be checked matches nothing.
    /// SHA-256 digests are compared in constant time. An argon2id check allocates its 19 MiB
    /// afresh: for one-off checks; servers use [`Self::verify_with`] on their checking
    /// threads, and log a check that failed.
    pub fn verify(&self, presented: &str) -> bool {
        self.verify_with(presented, &mut HashMemory::default())
            .unwrap_or(false)
    }

    /// Whether `presented` is the secret, computing an argon2id hash in `memory`, which grows
    /// to the hash's memory cost once and is reused by the next check. An argon2id hash that
    /// cannot be checked is an error for the caller to log (the core logs nothing); it
    /// matches nothing.
    pub fn verify_with(
        &self,
        presented: &str,
        memory: &mut HashMemory,
    ) -> Result<bool, UncheckableHash> {
        match self {
            Self::Sha256(expected) => {
                let actual: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
                Ok(actual.ct_eq(expected).into())
            }
            Self::Argon2id(phc) => {
                argon2_matches(phc, presented.as_bytes(), memory).map_err(UncheckableHash)
            }
        }
    }
}

/// Working memory for argon2id checks. Allocating 19 MiB per check and freeing it left the
/// process tens of megabytes larger after every burst of failed sign-ins (the allocator kept
/// the freed blocks in per-thread arenas); one buffer per checking thread bounds memory by
/// threads × the largest memory cost.
#[derive(Default)]
pub struct HashMemory {
    blocks: Vec<argon2::Block>,
}

impl HashMemory {
    /// The bytes held.
    pub fn bytes(&self) -> usize {
        self.blocks.len() * argon2::Block::SIZE
    }

    fn blocks(&mut self, count: usize) -> &mut [argon2::Block] {
        if self.blocks.len() < count {
            self.blocks.resize(count, argon2::Block::default());
        }
        let (blocks, _) = self.blocks.split_at_mut(count);
        blocks
    }
}

impl std::fmt::Debug for HashMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashMemory")
            .field("bytes", &self.bytes())
            .finish()
    }
}

/// Verifies a PHC string as `argon2::PasswordVerifier` does, but in caller-provided memory.
fn argon2_matches(
    phc: &str,
    presented: &[u8],
    memory: &mut HashMemory,
) -> Result<bool, argon2::password_hash::Error> {
    use argon2::password_hash::Error;
    let hash = argon2::PasswordHash::new(phc)?;
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return Err(Error::PhcStringField);
    };
    let algorithm = argon2::Algorithm::try_from(hash.algorithm)?;
    let version = hash
        .version
        .map(argon2::Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = argon2::Params::try_from(&hash)?;
    if params.m_cost() > MAX_ARGON2_MEMORY_KIB {
        return Err(Error::ParamValueInvalid(
            argon2::password_hash::errors::InvalidValue::TooLong,
        ));
    }
    let blocks = params.block_count();
    let mut salt_bytes = [0u8; argon2::password_hash::Salt::MAX_LENGTH];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    let mut output = [0u8; argon2::password_hash::Output::MAX_LENGTH];
    let output = output.get_mut(..expected.len()).ok_or(Error::OutputSize {
        provided: std::cmp::Ordering::Greater,
        expected: argon2::password_hash::Output::MAX_LENGTH,
    })?;
    argon2::Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        presented,
        salt,
        output,
        memory.blocks(blocks),
    )?;
    Ok(output.ct_eq(expected.as_bytes()).into())
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
    fn argon2id_checks_reuse_one_buffer() {
        let hash = SecretHash::argon2id_of("pass phrase").unwrap();
        let mut memory = HashMemory::default();
        assert!(matches!(
            hash.verify_with("pass phrase", &mut memory),
            Ok(true)
        ));
        let held = memory.bytes();
        assert_eq!(held, 19 * 1024 * 1024, "the default memory cost");
        assert!(matches!(hash.verify_with("wrong", &mut memory), Ok(false)));
        assert!(matches!(
            hash.verify_with("pass phrase", &mut memory),
            Ok(true)
        ));
        assert_eq!(memory.bytes(), held);
        // A smaller memory cost uses part of the same buffer.
        let small = SecretHash::parse(
            "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$2wWX2LZgQTg7zsFP5PZOOtqB3J5qN0QDMHOp3HO0QhQ",
        )
        .unwrap();
        assert!(matches!(small.verify_with("x", &mut memory), Ok(false)));
        assert_eq!(memory.bytes(), held);
    }

    #[test]
    fn argon2id_hashes_with_other_parameters_verify() {
        use argon2::PasswordHasher as _;
        // Lanes, passes and memory other than the defaults, hashed by the crate's own hasher.
        let params = argon2::Params::new(256, 3, 2, Some(24)).unwrap();
        let salt = argon2::password_hash::SaltString::encode_b64(b"sixteen byte salt").unwrap();
        let phc = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(b"pass phrase", &salt)
            .unwrap()
            .to_string();
        let hash = SecretHash::parse(&phc).unwrap();
        let mut memory = HashMemory::default();
        assert!(matches!(
            hash.verify_with("pass phrase", &mut memory),
            Ok(true)
        ));
        assert!(matches!(
            hash.verify_with("pass phrasf", &mut memory),
            Ok(false)
        ));
        assert_eq!(memory.bytes(), 256 * 1024);
    }

    #[test]
    fn argon2id_memory_cost_is_capped() {
        assert_eq!(
            SecretHash::parse(
                "$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$2wWX2LZgQTg7zsFP5PZOOtqB3J5qN0QDMHOp3HO0QhQ"
            ),
            Err(SecretHashError::Argon2TooLarge(4_194_304))
        );
    }

    #[test]
    fn debug_never_prints_the_hash() {
        let (_, hash) = generate_secret();
        assert!(!format!("{hash:?}").contains(&hash.to_string()[7..]));
    }

    #[test]
    fn a_hash_that_cannot_be_checked_is_an_error_with_its_cause_and_matches_nothing() {
        let broken = SecretHash::Argon2id("$argon2id$v=19$m=8,t=1,p=1$not-a-salt".to_owned());
        let error = broken.verify_with("anything", &mut HashMemory::default());
        let Err(error) = error else {
            panic!("checked: {error:?}");
        };
        assert_eq!(error.to_string(), "checking an argon2id hash");
        assert!(std::error::Error::source(&error).is_some());
        assert!(!broken.verify("anything"));
    }
}
