//! Why a key could not be parsed or generated, and why a key ring could not be built.
//!
//! Messages name only their own step; the cause is in [`std::error::Error::source`], so a
//! chain printed with `{:#}` reads once, outermost first.

use crate::{Algorithm, KeySourceError};

/// A boxed cause from a dependency, kept out of this crate's public types.
pub type BoxedCause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a key could not be parsed or generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not PEM.
    #[error("not a PEM document")]
    NotPem(#[source] BoxedCause),
    /// A PEM label this crate does not read.
    #[error(
        "unsupported PEM label `{0}` (expected PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)"
    )]
    UnsupportedLabel(String),
    /// The DER did not parse as the key type its label announces.
    #[error("{encoding} key rejected")]
    Rejected {
        /// The encoding tried, such as `PKCS#1 RSA`.
        encoding: &'static str,
        /// The cause.
        #[source]
        source: BoxedCause,
    },
    /// A PKCS#8 key of a type this crate does not sign with.
    #[error("unsupported PKCS#8 key: not RSA, P-256 or Ed25519")]
    UnsupportedKeyType,
    /// An RSA key shorter than 2048 bits.
    #[error("RSA key shorter than 2048 bits")]
    WeakRsaKey,
    /// The PEM holds no private key, or more than one.
    #[error("expected one private key in the PEM, found {0}")]
    NotOneKey(usize),
    /// The algorithm asked for does not fit the key type.
    #[error("{alg} cannot sign with {key_type} key")]
    Mismatch {
        /// The algorithm asked for.
        alg: Algorithm,
        /// The key type found, such as `an Ed25519`.
        key_type: &'static str,
    },
    /// Key generation failed in the cryptographic library.
    #[error("key generation failed")]
    Generation,
    /// A JWK member is missing or not base64url.
    #[error("JWK member `{0}` is missing or not base64url")]
    JwkMember(&'static str),
    /// A symmetric secret shorter than 32 bytes.
    #[error("a session secret needs at least 32 bytes, this one has {0}")]
    ShortSecret(usize),
}

/// Why a key ring could not be built or refreshed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRingError {
    /// The key source failed.
    #[error("loading keys from {source_name}")]
    Load {
        /// The source, as it describes itself.
        source_name: String,
        /// The cause.
        #[source]
        source: KeySourceError,
    },
    /// Two loaded keys share a key id: the same key material twice, perhaps under two
    /// algorithms. Verification looks keys up by id, so this is refused.
    #[error("two loaded keys share the key id {0}")]
    DuplicateKid(String),
    /// Two session secrets share an id.
    #[error("two loaded session secrets share the id {0}")]
    DuplicateSecret(String),
    /// No loaded key can sign with one of the configured algorithms now.
    #[error(
        "no {alg} key is valid now (every configured signing algorithm needs a key; \
         `sigil keys generate` adds the missing ones to a file or Kubernetes source)"
    )]
    NoActiveKey {
        /// The configured algorithm without a key.
        alg: Algorithm,
    },
}
