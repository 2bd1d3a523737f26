//! Where signing keys come from.

use crate::{KeyError, SigningKey};
use async_trait::async_trait;

/// A place signing keys are loaded from: a directory, a vault, a cluster secret.
///
/// Implementations return every key they hold, each already parsed; the [`crate::KeyRing`]
/// decides which one signs. `load` is called at start and again by a refresher, so it must
/// return the full current set each time.
#[async_trait]
pub trait KeySource: Send + Sync {
    /// Loads (or reloads) every key.
    async fn load(&self) -> Result<Vec<SigningKey>, KeySourceError>;

    /// Names the source in errors and logs (a path, a vault URL). Never includes secrets.
    fn describe(&self) -> String {
        std::any::type_name::<Self>().to_owned()
    }
}

/// Why a key source could not deliver keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeySourceError {
    /// A file or directory could not be read or written.
    #[error("cannot access {path}")]
    Io {
        /// The file or directory.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A key file holds no usable key.
    #[error("invalid key in {path}")]
    InvalidKey {
        /// The file (or other location) of the key.
        path: String,
        /// The cause.
        #[source]
        source: KeyError,
    },
    /// A key's metadata (such as a `<name>.json` sidecar) is invalid.
    #[error("invalid key metadata in {path}: {reason}")]
    InvalidMetadata {
        /// The metadata file (or other location).
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A new key could not be generated.
    #[error("cannot generate a key for {location}")]
    Generation {
        /// Where it was to be kept.
        location: String,
        /// The cause.
        #[source]
        source: KeyError,
    },
    /// The source holds no key at all.
    #[error("no signing key found in {0}")]
    Empty(String),
}
