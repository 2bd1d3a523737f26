//! Keys from a directory of PEM files.
//!
//! Each `*.pem` holds one private key (see [`SigningKey::from_pem`] for the encodings). An
//! optional sidecar with the same name and a `.json` extension sets, all members optional:
//!
//! ```json
//! { "alg": "PS256", "not_before": 1767225600, "created": 1767139200 }
//! ```
//!
//! - `alg` defaults from the key type: RSA → RS256, P-256 → ES256, Ed25519 → EdDSA.
//! - `not_before` (Unix seconds) defaults to 0: a key without one may sign at once. It does
//!   **not** default to the file's modification time, which differs between replicas and
//!   changes whenever a volume is remounted or a file copied; the active key must be a function
//!   of the keys alone, the same on every replica. To pre-publish a key, give it a `not_before`.
//! - `created` (Unix seconds) defaults to `not_before`.
//!
//! Other files are ignored. A `.pem` that cannot be read or parsed, or a sidecar that is
//! invalid, fails the whole load with an error naming the file: a key set is used complete or
//! not at all.

use crate::{Algorithm, KeySource, KeySourceError, SigningKey};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sigil_core::time::Timestamp;
use std::path::{Path, PathBuf};

/// A directory of PEM private keys.
///
/// Reading is synchronous: a few small files, read at start and on refresh, never per request.
#[derive(Debug, Clone)]
pub struct FileKeySource {
    dir: PathBuf,
}

/// The optional `<name>.json` next to a key.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Sidecar {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) not_before: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) created: Option<u64>,
}

impl FileKeySource {
    /// Reads keys from `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads every key in the directory, in file-name order; an empty directory gives none.
    pub fn read_keys(&self) -> Result<Vec<SigningKey>, KeySourceError> {
        let io_error = |path: &Path| {
            let path = path.display().to_string();
            move |source| KeySourceError::Io { path, source }
        };
        let mut pem_files = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io_error(&self.dir))? {
            let path = entry.map_err(io_error(&self.dir))?.path();
            if path.extension().is_some_and(|ext| ext == "pem") {
                pem_files.push(path);
            }
        }
        pem_files.sort();
        pem_files.iter().map(|path| read_key(path)).collect()
    }
}

fn read_key(path: &Path) -> Result<SigningKey, KeySourceError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| KeySourceError::Io {
        path: shown.clone(),
        source,
    })?;
    let sidecar_path = path.with_extension("json");
    let invalid = |reason: String| KeySourceError::InvalidMetadata {
        path: sidecar_path.display().to_string(),
        reason,
    };
    let sidecar = match std::fs::read_to_string(&sidecar_path) {
        Ok(json) => serde_json::from_str::<Sidecar>(&json).map_err(|e| invalid(e.to_string()))?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Sidecar::default(),
        Err(source) => {
            return Err(KeySourceError::Io {
                path: sidecar_path.display().to_string(),
                source,
            });
        }
    };
    let alg = sidecar
        .alg
        .as_deref()
        .map(|name| {
            name.parse::<Algorithm>()
                .map_err(|e| invalid(e.to_string()))
        })
        .transpose()?;
    let not_before = sidecar.not_before.unwrap_or(0);
    let created = sidecar.created.unwrap_or(not_before);
    let key = SigningKey::from_pem(&text, alg).map_err(|source| KeySourceError::InvalidKey {
        path: shown,
        source,
    })?;
    Ok(key
        .with_created(Timestamp(created))
        .with_not_before(Timestamp(not_before)))
}

#[async_trait]
impl KeySource for FileKeySource {
    /// Every key in the directory; an error if there is none.
    async fn load(&self) -> Result<Vec<SigningKey>, KeySourceError> {
        let keys = self.read_keys()?;
        if keys.is_empty() {
            return Err(KeySourceError::Empty(self.describe()));
        }
        Ok(keys)
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}
