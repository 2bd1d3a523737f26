//! Keys from a directory: the [key-file layout](crate::key_files) read from disk, and watched
//! for changes (a mounted Secret or ConfigMap updates its files in place).

use crate::key_files::{KeyFileChange, KeyFileStore, KeyFiles, parse_key_files};
use crate::write_file::{create_private_dir, ensure_absent, remove, write_new};
use crate::{KeySet, KeySource, KeySourceError};
use async_trait::async_trait;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// How often the directory listing is compared for [`KeySource::changed`].
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// A directory of key files.
///
/// Reading is synchronous: a few small files, read at start and on refresh, never per request.
/// Changes are noticed by comparing the names, sizes and modification times of the files once
/// a second, which works on every filesystem, including a Kubernetes volume whose files are
/// swapped through symbolic links.
#[derive(Debug)]
pub struct FileKeySource {
    dir: PathBuf,
    seen: Mutex<Option<Fingerprint>>,
}

type Fingerprint = Vec<(String, u64, Option<SystemTime>)>;

impl FileKeySource {
    /// Reads keys from `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            seen: Mutex::new(None),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads every key file in the directory (names starting with `.` are skipped).
    pub fn read_files(&self) -> Result<KeyFiles, KeySourceError> {
        let io_error = |path: &Path| {
            let path = path.display().to_string();
            move |source| KeySourceError::Io { path, source }
        };
        let mut files = KeyFiles::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io_error(&self.dir))? {
            let entry = entry.map_err(io_error(&self.dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if name.starts_with('.')
                || !(name.ends_with(".pem") || name.ends_with(".json") || name.ends_with(".jwk"))
            {
                continue;
            }
            let contents = std::fs::read(&path).map_err(io_error(&path))?;
            files.insert(name, contents);
        }
        Ok(files)
    }

    /// Reads and parses every key in the directory; an empty directory gives an empty set.
    pub fn read_keys(&self) -> Result<KeySet, KeySourceError> {
        parse_key_files(&self.read_files()?, &self.describe())
    }

    fn fingerprint(&self) -> Option<Fingerprint> {
        let mut listing: Fingerprint = std::fs::read_dir(&self.dir)
            .ok()?
            .filter_map(Result::ok)
            .filter(|entry| !entry.file_name().to_string_lossy().starts_with('.'))
            .map(|entry| {
                let metadata = std::fs::metadata(entry.path()).ok();
                (
                    entry.file_name().to_string_lossy().into_owned(),
                    metadata.as_ref().map_or(0, std::fs::Metadata::len),
                    metadata.and_then(|metadata| metadata.modified().ok()),
                )
            })
            .collect();
        listing.sort();
        Some(listing)
    }

    fn remember(&self, fingerprint: Option<Fingerprint>) -> bool {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let changed = *seen != fingerprint;
        *seen = fingerprint;
        changed
    }
}

#[async_trait]
impl KeySource for FileKeySource {
    /// Every key in the directory; an error if there is none.
    async fn load(&self) -> Result<KeySet, KeySourceError> {
        self.remember(self.fingerprint());
        let keys = self.read_keys()?;
        if keys.signing.is_empty() {
            return Err(KeySourceError::Empty(self.describe()));
        }
        Ok(keys)
    }

    /// Resolves once the listing (names, sizes, modification times) differs from the one
    /// seen at the last load.
    async fn changed(&self) {
        loop {
            tokio::time::sleep(POLL_INTERVAL).await;
            if self.remember(self.fingerprint()) {
                return;
            }
        }
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}

#[async_trait]
impl KeyFileStore for FileKeySource {
    async fn files(&self) -> Result<KeyFiles, KeySourceError> {
        create_private_dir(&self.dir)?;
        self.read_files()
    }

    /// Creates each file whole, then removes; a directory has no multi-file transaction, so
    /// sidecars are written before their keys (see `sigil keys`). Files are only ever added: if
    /// any name is taken, nothing is written and the change fails with
    /// [`KeySourceError::AlreadyExists`] (a name taken between the check and the write fails
    /// that write just the same).
    async fn apply(&self, change: KeyFileChange) -> Result<(), KeySourceError> {
        create_private_dir(&self.dir)?;
        for name in change.write.keys() {
            ensure_absent(&self.dir.join(checked_name(name)?))?;
        }
        let mut writes: Vec<_> = change.write.iter().collect();
        // Metadata first: a reader never sees a key without the times that delay its signing.
        writes.sort_by_key(|(name, _)| !name.ends_with(".json"));
        for (name, contents) in writes {
            write_new(&self.dir.join(checked_name(name)?), contents)?;
        }
        for name in &change.remove {
            remove(&self.dir.join(checked_name(name)?))?;
        }
        Ok(())
    }
}

/// Refuses names that would leave the directory.
fn checked_name(name: &str) -> Result<&str, KeySourceError> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(KeySourceError::InvalidMetadata {
            path: name.to_owned(),
            reason: "not a plain file name".to_owned(),
        });
    }
    Ok(name)
}
