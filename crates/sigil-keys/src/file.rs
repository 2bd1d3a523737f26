//! Keys from a directory of PEM files.
//!
//! Each `*.pem` holds one private key. An optional sidecar `<same name>.json` sets
//! `{"alg": "PS256", "not_before": <unix seconds>}`; without it the algorithm follows the key
//! type (RSA → RS256, P-256 → ES256, Ed25519 → EdDSA) and the key is valid from the epoch,
//! that is at once.

use crate::{Algorithm, KeySource, KeySourceError, SigningKey};
use async_trait::async_trait;
use serde::Deserialize;
use sigil_core::time::Timestamp;
use std::path::{Path, PathBuf};

/// A directory of PEM private keys.
#[derive(Debug, Clone)]
pub struct FileKeySource {
    dir: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    alg: Option<String>,
    not_before: Option<u64>,
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

    /// Reads every key in the directory, in file-name order.
    pub fn read_keys(&self) -> Result<Vec<SigningKey>, KeySourceError> {
        let io_error = |path: &Path, source| KeySourceError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut pem_files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map_err(|e| io_error(&self.dir, e))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "pem"))
            .collect();
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
    let sidecar = path.with_extension("json");
    let metadata = match std::fs::read_to_string(&sidecar) {
        Ok(json) => serde_json::from_str::<Metadata>(&json).map_err(|e| {
            KeySourceError::InvalidMetadata {
                path: sidecar.display().to_string(),
                reason: e.to_string(),
            }
        })?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Metadata::default(),
        Err(source) => {
            return Err(KeySourceError::Io {
                path: sidecar.display().to_string(),
                source,
            });
        }
    };
    let alg = match metadata.alg.as_deref() {
        None => None,
        Some(name) => {
            Some(
                Algorithm::from_name(name).ok_or_else(|| KeySourceError::InvalidMetadata {
                    path: sidecar.display().to_string(),
                    reason: format!("unsupported alg `{name}` (RS256, PS256, ES256, EdDSA)"),
                })?,
            )
        }
    };
    let not_before = Timestamp(metadata.not_before.unwrap_or(0));
    SigningKey::from_pem(&text, alg, not_before).map_err(|source| KeySourceError::InvalidKey {
        path: shown,
        source,
    })
}

#[async_trait]
impl KeySource for FileKeySource {
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
