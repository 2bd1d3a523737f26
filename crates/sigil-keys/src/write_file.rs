//! Writing key files so that a reader sees a whole file or none, and never over another.

use crate::KeySourceError;
use std::io::Write as _;
use std::path::Path;

/// Creates `dir` (and parents) if missing, with mode 0700.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), KeySourceError> {
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

/// Creates `path` with `contents`, whole or not at all, and never over an existing file:
/// writes a temporary file (mode 0600) next to it, syncs it, links it into place (which fails
/// if the name is taken, with no window for a racing writer), removes the temporary name and
/// syncs the directory. A key is never overwritten: two writers that picked the same name get
/// [`KeySourceError::AlreadyExists`] for the second, not a silent replacement.
pub(crate) fn write_new(path: &Path, contents: &[u8]) -> Result<(), KeySourceError> {
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
    let written = options
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        })
        .and_then(|()| std::fs::hard_link(&temporary, path));
    let _ = std::fs::remove_file(&temporary);
    match written {
        Ok(()) => sync_parent(path),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(already_exists(path))
        }
        Err(error) => Err(io_error(error)),
    }
}

/// Fails with [`KeySourceError::AlreadyExists`] if anything is at `path`.
pub(crate) fn ensure_absent(path: &Path) -> Result<(), KeySourceError> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Err(already_exists(path)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(KeySourceError::Io {
            path: path.display().to_string(),
            source,
        }),
    }
}

fn already_exists(path: &Path) -> KeySourceError {
    KeySourceError::AlreadyExists {
        path: path.display().to_string(),
    }
}

/// Removes `path` (a missing file is not an error) and syncs the directory.
pub(crate) fn remove(path: &Path) -> Result<(), KeySourceError> {
    match std::fs::remove_file(path) {
        Ok(()) => sync_parent(path),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(KeySourceError::Io {
            path: path.display().to_string(),
            source,
        }),
    }
}

fn sync_parent(path: &Path) -> Result<(), KeySourceError> {
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(|source| KeySourceError::Io {
                path: parent.display().to_string(),
                source,
            })?;
    }
    Ok(())
}
