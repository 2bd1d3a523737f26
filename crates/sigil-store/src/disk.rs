//! The sled database under a store directory, and the one place that makes writes durable.
//!
//! sled 0.34's `flush()` writes its buffers with `sync_file_range` on Linux, which neither
//! persists file metadata nor flushes the drive's write cache; sled's real `fsync` runs only in
//! its background flusher (every 500 ms). That is not enough for Raft votes and log entries, so
//! [`Disk::sync`] follows the flush with `fsync` of everything the flush may have written:
//!
//! 1. `db.flush()`: sled writes its dirty buffers to `<dir>/db` (and large pages to
//!    `<dir>/blobs/<lsn>`, which sled writes without any sync at all);
//! 2. `fsync` of each blob file not synced before, then of the `blobs` directory;
//! 3. `fsync` of `<dir>/db`, through a handle opened once (an fsync on any descriptor of the
//!    file syncs its inode).
//!
//! Blobs come before the database file, so a durable page never points at a blob that is not.
//! The store directory and its parent are synced once at open, so the directory entries
//! themselves survive a power cut.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// An open store directory: the sled database and the handles that make it durable.
pub(crate) struct Disk {
    db: sled::Db,
    dir: PathBuf,
    db_file: File,
    /// Blob files already synced. The mutex also serializes syncs, so one sync that starts after
    /// a write completes covers it.
    synced_blobs: Mutex<BTreeSet<OsString>>,
    /// Completed syncs.
    syncs: AtomicU64,
}

impl Disk {
    /// Opens (creating if needed) the sled database in `dir`.
    pub(crate) fn open(dir: &Path) -> io::Result<Arc<Disk>> {
        std::fs::create_dir_all(dir)?;
        let dir = dir.canonicalize()?;
        let db = sled::Config::new().path(&dir).open()?;
        let db_file = File::open(dir.join("db"))?;
        sync_dir(&dir)?;
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
        let disk = Disk {
            db,
            dir,
            db_file,
            synced_blobs: Mutex::new(BTreeSet::new()),
            syncs: AtomicU64::new(0),
        };
        Ok(Arc::new(disk))
    }

    /// The database.
    pub(crate) fn db(&self) -> &sled::Db {
        &self.db
    }

    /// Makes every write completed before the call durable. Blocking: call it from a blocking
    /// thread, or through [`Disk::sync`].
    pub(crate) fn sync_blocking(&self) -> io::Result<()> {
        let mut synced_blobs = self
            .synced_blobs
            .lock()
            .map_err(|_| io::Error::other("a previous sync panicked"))?;
        self.db.flush()?;
        self.sync_new_blobs(&mut synced_blobs)?;
        self.db_file.sync_all()?;
        self.syncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// How many syncs have completed since open.
    #[cfg(test)]
    pub(crate) fn sync_count(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// [`Disk::sync_blocking`] on the runtime's blocking pool, so the caller's worker thread
    /// stays free while the disk works.
    pub(crate) async fn sync(self: &Arc<Self>) -> io::Result<()> {
        let disk = Arc::clone(self);
        tokio::task::spawn_blocking(move || disk.sync_blocking())
            .await
            .map_err(io::Error::other)?
    }

    fn sync_new_blobs(&self, synced: &mut BTreeSet<OsString>) -> io::Result<()> {
        let blob_dir = self.dir.join("blobs");
        let entries = match std::fs::read_dir(&blob_dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut present = BTreeSet::new();
        let mut synced_any = false;
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            if !synced.contains(&name) {
                match File::open(entry.path()) {
                    Ok(file) => file.sync_all()?,
                    // sled garbage-collected it between listing and opening.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                }
                synced_any = true;
            }
            present.insert(name);
        }
        if synced_any {
            sync_dir(&blob_dir)?;
        }
        *synced = present;
        Ok(())
    }
}

/// `fsync` of a directory, so that the entries created in it are durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
