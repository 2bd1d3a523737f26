//! The development key source: a directory like [`FileKeySource`]'s, where a key for the
//! configured algorithm is generated the first time and reused ever after — so tokens issued
//! before a restart still validate after it. Never for production: each instance would
//! generate its own key.

use crate::{Algorithm, FileKeySource, KeySource, KeySourceError, SigningKey};
use async_trait::async_trait;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Generates once, then reads.
#[derive(Debug, Clone)]
pub struct DevKeySource {
    files: FileKeySource,
    alg: Algorithm,
}

impl DevKeySource {
    /// Keys under `dir`, with one for `alg` generated if missing.
    pub fn new(dir: impl Into<PathBuf>, alg: Algorithm) -> Self {
        Self {
            files: FileKeySource::new(dir),
            alg,
        }
    }

    fn ensure_key(&self) -> Result<(), KeySourceError> {
        let dir = self.files.dir();
        create_private_dir(dir)?;
        let keys = self.files.read_keys()?;
        if keys.iter().any(|key| key.alg() == self.alg) {
            return Ok(());
        }
        let (key, pem_text) =
            SigningKey::generate(self.alg).map_err(|source| KeySourceError::InvalidKey {
                path: dir.display().to_string(),
                source,
            })?;
        let stem = format!("{}-{}", self.alg.as_str().to_ascii_lowercase(), key.kid());
        // The sidecar first: a crash between the two leaves no key whose algorithm is unknown.
        write_atomically(
            &dir.join(format!("{stem}.json")),
            format!(r#"{{"alg":"{}"}}"#, self.alg).as_bytes(),
        )?;
        write_atomically(&dir.join(format!("{stem}.pem")), pem_text.as_bytes())?;
        tracing::info!(kid = key.kid(), alg = %self.alg, dir = %dir.display(), "generated a development signing key");
        Ok(())
    }
}

#[async_trait]
impl KeySource for DevKeySource {
    async fn load(&self) -> Result<Vec<SigningKey>, KeySourceError> {
        self.ensure_key()?;
        self.files.load().await
    }

    fn describe(&self) -> String {
        format!("{} (dev)", self.files.describe())
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

/// Writes to a temporary file (mode 0600), syncs it, renames it into place, syncs the directory.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), KeySourceError> {
    let io_error = |source| KeySourceError::Io {
        path: path.display().to_string(),
        source,
    };
    let temporary = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary).map_err(io_error)?;
    file.write_all(contents).map_err(io_error)?;
    file.sync_all().map_err(io_error)?;
    std::fs::rename(&temporary, path).map_err(io_error)?;
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(io_error)?;
    }
    Ok(())
}
