/// Why a key could not be loaded, parsed or generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not PEM, or a PEM label this crate does not read.
    #[error("unsupported key encoding: {0}")]
    Encoding(String),
    /// The DER did not parse as a key of the expected type.
    #[error("key rejected: {0}")]
    Rejected(String),
    /// The key does not fit the algorithm asked for (or is too weak for it).
    #[error("key does not fit {alg}: {reason}")]
    Mismatch {
        /// The algorithm.
        alg: crate::Algorithm,
        /// Why.
        reason: String,
    },
    /// Key generation failed.
    #[error("key generation failed")]
    Generation,
}

/// Why a key source could not deliver keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeySourceError {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A key file is invalid.
    #[error("{path}: {source}")]
    InvalidKey {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: KeyError,
    },
    /// A metadata sidecar is invalid.
    #[error("{path}: invalid metadata: {reason}")]
    InvalidMetadata {
        /// The sidecar file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The source holds no usable key.
    #[error("no signing key found in {0}")]
    Empty(String),
}
