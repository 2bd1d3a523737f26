//! The Raft log and vote: openraft's [`RaftLogStorage`] and [`RaftLogReader`] over sled.
//!
//! | tree        | key                                 | value                   |
//! |-------------|-------------------------------------|-------------------------|
//! | `raft_log`  | index (8, big-endian)               | the entry               |
//! | `raft_meta` | `vote`, `committed`, `last_purged`  | vote, log id, log id    |
//!
//! Durability: `append` reports its entries flushed (the `LogFlushed` callback), and
//! `save_vote` and `truncate` return, only after `Disk::sync`: a sled flush followed by an
//! `fsync`, run on the blocking pool. openraft 0.9 appends each proposal separately and waits
//! for that flush before it takes the next, so every acknowledged write costs one sync; batching
//! concurrent proposals has to happen before they reach Raft. `purge` and `save_committed` are
//! not synced: losing them in a crash only means some log is purged again, or some entries are
//! applied again.

use crate::codec::{decode, encode, log_key, parse_log_key};
use crate::disk::Disk;
use crate::types::{LogEntry, LogId, NodeId, StorageError, TypeConfig};
use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{OptionalSend, RaftLogReader, StorageIOError, Vote};
use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

const VOTE: &[u8] = b"vote";
const COMMITTED: &[u8] = b"committed";
const LAST_PURGED: &[u8] = b"last_purged";

/// The Raft log store. Clones share the same trees; a clone is the log reader.
#[derive(Clone)]
pub struct LogStore {
    disk: Arc<Disk>,
    log: sled::Tree,
    meta: sled::Tree,
}

impl LogStore {
    /// Opens the log stored on `disk`.
    pub(crate) fn open(disk: Arc<Disk>) -> io::Result<LogStore> {
        let log = disk.db().open_tree("raft_log")?;
        let meta = disk.db().open_tree("raft_meta")?;
        Ok(LogStore { disk, log, meta })
    }

    fn read_meta<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> io::Result<Option<T>> {
        match self.meta.get(key)? {
            Some(bytes) => decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    fn write_meta<T: serde::Serialize>(&self, key: &[u8], value: &T) -> io::Result<()> {
        self.meta.insert(key, encode(value)?)?;
        Ok(())
    }

    fn last_log_id(&self) -> io::Result<Option<LogId>> {
        match self.log.last()? {
            Some((_, bytes)) => Ok(Some(decode::<LogEntry>(&bytes)?.log_id)),
            None => Ok(None),
        }
    }

    /// Removes the entries with index in `[from, to)`.
    fn remove_range(&self, from: u64, to: Option<u64>) -> io::Result<()> {
        let start = log_key(from);
        let keys = match to {
            Some(end) => self.log.range(start..log_key(end)),
            None => self.log.range(start..),
        };
        let mut batch = sled::Batch::default();
        for key in keys.keys() {
            batch.remove(key?);
        }
        self.log.apply_batch(batch)?;
        Ok(())
    }
}

fn read_logs_err(e: io::Error) -> StorageError {
    StorageIOError::read_logs(&e).into()
}

fn write_logs_err(e: io::Error) -> StorageError {
    StorageIOError::write_logs(&e).into()
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<LogEntry>, StorageError> {
        let start = match range.start_bound() {
            Bound::Included(&i) => i,
            Bound::Excluded(&i) => match i.checked_add(1) {
                Some(next) => next,
                None => return Ok(Vec::new()),
            },
            Bound::Unbounded => 0,
        };
        let mut entries = Vec::new();
        for item in self.log.range(log_key(start)..) {
            let (key, bytes) = item.map_err(|e| read_logs_err(e.into()))?;
            let index = parse_log_key(&key).ok_or_else(|| {
                read_logs_err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "malformed log key",
                ))
            })?;
            if !range.contains(&index) {
                break;
            }
            entries.push(decode::<LogEntry>(&bytes).map_err(read_logs_err)?);
        }
        Ok(entries)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let last_purged_log_id: Option<LogId> =
            self.read_meta(LAST_PURGED).map_err(read_logs_err)?;
        let last_log_id = self
            .last_log_id()
            .map_err(read_logs_err)?
            .or(last_purged_log_id);
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> LogStore {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError> {
        let write_err = |e: io::Error| StorageError::from(StorageIOError::write_vote(&e));
        self.write_meta(VOTE, vote).map_err(write_err)?;
        self.disk.sync().await.map_err(write_err)
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError> {
        self.read_meta(VOTE)
            .map_err(|e| StorageIOError::read_vote(&e).into())
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        self.write_meta(COMMITTED, &committed)
            .map_err(write_logs_err)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        let committed: Option<Option<LogId>> = self.read_meta(COMMITTED).map_err(read_logs_err)?;
        Ok(committed.flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = LogEntry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut batch = sled::Batch::default();
        for entry in entries {
            batch.insert(
                &log_key(entry.log_id.index),
                encode(&entry).map_err(write_logs_err)?,
            );
        }
        self.log
            .apply_batch(batch)
            .map_err(|e| write_logs_err(e.into()))?;
        // The entries are readable now; report them flushed only once they are on disk.
        self.disk.sync().await.map_err(write_logs_err)?;
        callback.log_io_completed(Ok(()));
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        self.remove_range(log_id.index, None)
            .map_err(write_logs_err)?;
        self.disk.sync().await.map_err(write_logs_err)
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        // The marker goes first: entries at or below it are ignored even if a crash leaves
        // some of them behind. sled keeps write order, so the removal never survives without it.
        self.write_meta(LAST_PURGED, &log_id)
            .map_err(write_logs_err)?;
        let end = log_id.index.checked_add(1);
        self.remove_range(0, end).map_err(write_logs_err)
    }
}
