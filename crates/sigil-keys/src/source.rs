//! Where signing keys come from.

use crate::{BoxedCause, KeyError, KeySet};
use async_trait::async_trait;

/// A place signing keys and session secrets are loaded from: a directory, a vault, a
/// cluster secret.
///
/// Implementations return every key they hold, each already parsed, with the times they know
/// (created, not before, expires); the [`crate::KeyRing`] decides from those which key is
/// pending, active or retired. `load` is called at start and again by the
/// [`crate::KeyRefresher`], on a timer and whenever [`changed`](Self::changed) resolves, so it
/// must return the full current set each time.
#[async_trait]
pub trait KeySource: Send + Sync {
    /// Loads (or reloads) every key and secret.
    async fn load(&self) -> Result<KeySet, KeySourceError>;

    /// Resolves when the source may have changed: a watch event, a file touched. The
    /// refresher reloads on a timer as well, so a wake-up without a change costs one load, and
    /// a source that cannot notice changes keeps this default, which never resolves.
    async fn changed(&self) {
        std::future::pending::<()>().await;
    }

    /// Names the source in errors and logs (a path, a vault URL). Never includes secrets.
    fn describe(&self) -> String;
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
    /// The source could not be reached, refused the credentials, or answered with an error.
    #[error("{source_name} is unavailable")]
    Unavailable {
        /// The source, as it describes itself.
        source_name: String,
        /// The cause.
        #[source]
        cause: BoxedCause,
    },
    /// A write would replace a file (or Secret entry) that exists: keys are only ever
    /// added, never overwritten.
    #[error("{path} exists already; keys and secrets are never overwritten")]
    AlreadyExists {
        /// The file (or other location) that exists.
        path: String,
    },
    /// A write lost a race with another writer; read again and retry.
    #[error("{0} was changed by someone else meanwhile; try again")]
    Conflict(String),
}
