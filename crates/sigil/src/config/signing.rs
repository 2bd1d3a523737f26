use serde::Deserialize;
use std::path::PathBuf;

/// How tokens are signed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningConfig {
    /// `RS256` (default), `PS256`, `ES256` or `EdDSA`.
    #[serde(default)]
    pub algorithm: sigil_keys::Algorithm,
    /// Where the keys come from.
    #[serde(default)]
    pub source: KeySourceConfig,
}

/// Where signing keys come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum KeySourceConfig {
    /// Generated once under `<data_dir>/keys` and reused: for development only.
    // A struct variant, so that unknown fields next to `kind: dev` are rejected too.
    Dev {},
    /// A directory of PEM private keys (with optional `<name>.json` metadata).
    File {
        /// The directory.
        path: PathBuf,
    },
}

impl Default for KeySourceConfig {
    fn default() -> Self {
        Self::Dev {}
    }
}
