//! The development key source: a directory read like [`FileKeySource`]'s, where a key for the
//! configured algorithm is generated the first time and reused ever after, so tokens issued
//! before a restart still validate after it.
//!
//! Not for production: every instance with its own directory would generate its own key.

use crate::file::Sidecar;
use crate::{Algorithm, FileKeySource, KeySource, KeySourceError, SigningKey};
use async_trait::async_trait;
use sigil_core::time::Timestamp;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Generates a key once, then reads it.
///
/// A generated key is written as `<alg>-<kid>.pem` (PKCS#8) with a sidecar
/// `<alg>-<kid>.json` recording its algorithm and creation time; it is valid at once. Both
/// files are written atomically with mode 0600, in a directory with mode 0700.
#[derive(Debug, Clone)]
pub struct DevKeySource {
    files: FileKeySource,
    alg: Algorithm,
}

impl DevKeySource {
    /// Keys under `dir` (created if missing), with one for `alg` generated if none is there.
    pub fn new(dir: impl Into<PathBuf>, alg: Algorithm) -> Self {
        Self {
            files: FileKeySource::new(dir),
            alg,
        }
    }

    /// Generates a key for the configured algorithm and persists it.
    fn generate(&self) -> Result<SigningKey, KeySourceError> {
        let dir = self.files.dir();
        let (key, pem_text) =
            SigningKey::generate(self.alg).map_err(|source| KeySourceError::Generation {
                location: dir.display().to_string(),
                source,
            })?;
        let key = key.with_not_before(Timestamp(0));
        let sidecar = Sidecar {
            alg: Some(self.alg.to_string()),
            not_before: None,
            created: Some(key.created().as_secs()),
        };
        let sidecar =
            serde_json::to_vec(&sidecar).map_err(|e| KeySourceError::InvalidMetadata {
                path: dir.display().to_string(),
                reason: e.to_string(),
            })?;
        let stem = format!("{}-{}", self.alg.as_str().to_ascii_lowercase(), key.kid());
        // The sidecar first: a crash between the two leaves no key whose algorithm is unknown.
        write_atomically(&dir.join(format!("{stem}.json")), &sidecar)?;
        write_atomically(&dir.join(format!("{stem}.pem")), pem_text.as_bytes())?;
        tracing::info!(kid = key.kid(), alg = %self.alg, dir = %dir.display(), "generated a development signing key");
        Ok(key)
    }
}

#[async_trait]
impl KeySource for DevKeySource {
    /// Every key in the directory, plus a newly generated one if none was for the algorithm.
    async fn load(&self) -> Result<Vec<SigningKey>, KeySourceError> {
        create_private_dir(self.files.dir())?;
        let mut keys = self.files.read_keys()?;
        if !keys.iter().any(|key| key.alg() == self.alg) {
            keys.push(self.generate()?);
        }
        Ok(keys)
    }

    fn describe(&self) -> String {
        format!("{} (development keys)", self.files.describe())
    }
}

fn create_private_dir(dir: &Path) -> Result<(), KeySourceError> {
    let io_error = |source| KeySourceError::Io {
        path: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io_error)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io_error)?;
    }
    Ok(())
}

/// Writes a temporary file (mode 0600) next to `path`, syncs it, renames it into place and
/// syncs the directory: a reader sees the whole file or none.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), KeySourceError> {
    let io_error = |source| KeySourceError::Io {
        path: path.display().to_string(),
        source,
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    if let Err(error) = written.and_then(|()| std::fs::rename(&temporary, path)) {
        let _ = std::fs::remove_file(&temporary);
        return Err(io_error(error));
    }
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(io_error)?;
    }
    Ok(())
}
