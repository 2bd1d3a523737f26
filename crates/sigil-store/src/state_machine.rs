//! The replicated state machine: openraft's [`RaftStateMachine`] and [`RaftSnapshotBuilder`]
//! over the grant trees.
//!
//! The state machine is persistent: each applied entry is committed to sled (grants, indexes
//! and the applied log id in one transaction) before `apply` returns. That commit is not
//! fsynced on its own; it becomes durable with the next log sync, with the snapshot sync below,
//! or through sled's background flusher. If a crash loses applied-but-unsynced entries, the
//! state machine restarts at an older applied log id and Raft applies the entries again from the
//! log, which was durable before they were committed; `apply` being deterministic, the result
//! is the same.
//!
//! A snapshot is the whole state: every grant, the rotation records, the remembered request ids
//! (so a follower that installs it still recognises retries), the last applied log id and the
//! membership. It
//! is built from a copy taken while no entry is being applied, fsynced state under it before it
//! is reported (so openraft may then purge the log behind it), and kept in memory as the current
//! snapshot. After a restart there is no current snapshot until the next one is built; openraft
//! builds one at start if the log has been purged.

use crate::codec::{decode, encode};
use crate::commands;
use crate::disk::Disk;
use crate::grant_trees::{GrantTrees, RequestRecord, RotationRecord, WriteSet};
use crate::reader::GrantReader;
use crate::types::{LogEntry, LogId, Node, NodeId, RequestId, Response, StorageError, TypeConfig};
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    EntryPayload, OptionalSend, RaftSnapshotBuilder, SnapshotMeta, StorageIOError, StoredMembership,
};
use serde::{Deserialize, Serialize};
use sigil_core::handle::GrantKey;
use sigil_core::store::Grant;
use std::io::{self, Cursor};
use std::sync::{Arc, Mutex};

/// The grant store's state machine over its sled trees.
pub struct StateMachine {
    disk: Arc<Disk>,
    trees: GrantTrees,
    last_applied: Option<LogId>,
    last_membership: StoredMembership<NodeId, Node>,
    current_snapshot: Arc<Mutex<Option<StoredSnapshot>>>,
}

/// A built or installed snapshot, kept so that it can be sent to a follower.
#[derive(Clone)]
struct StoredSnapshot {
    meta: SnapshotMeta<NodeId, Node>,
    data: Vec<u8>,
}

/// The encoding of a snapshot's data. New versions are appended as new variants.
#[derive(Serialize, Deserialize)]
enum SnapshotContents {
    V1 {
        last_applied: Option<LogId>,
        last_membership: StoredMembership<NodeId, Node>,
        grants: Vec<Grant>,
    },
    V2 {
        last_applied: Option<LogId>,
        last_membership: StoredMembership<NodeId, Node>,
        grants: Vec<Grant>,
        rotations: Vec<(GrantKey, RotationRecord)>,
        requests: Vec<(RequestId, RequestRecord)>,
    },
}

/// The raw contents of the trees a snapshot carries, copied while no entry is being applied.
struct RawState {
    grants: Vec<sled::IVec>,
    rotations: Vec<(sled::IVec, sled::IVec)>,
    requests: Vec<(sled::IVec, sled::IVec)>,
}

impl RawState {
    fn copy(trees: &GrantTrees) -> io::Result<RawState> {
        let pairs = |tree: &sled::Tree| {
            tree.iter()
                .collect::<Result<Vec<_>, _>>()
                .map_err(io::Error::from)
        };
        Ok(RawState {
            grants: trees
                .grants
                .iter()
                .values()
                .collect::<Result<Vec<_>, _>>()?,
            rotations: pairs(&trees.rotations)?,
            requests: pairs(&trees.requests)?,
        })
    }
}

fn fixed<const N: usize>(bytes: &[u8]) -> io::Result<[u8; N]> {
    bytes
        .try_into()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "malformed key in a snapshot"))
}

impl StateMachine {
    /// Opens the state machine stored on `disk`.
    pub(crate) fn open(disk: Arc<Disk>) -> io::Result<StateMachine> {
        let trees = GrantTrees::open(disk.db())?;
        let (applied, membership) = trees.applied_state_bytes()?;
        let last_applied = match applied {
            Some(bytes) => decode(&bytes)?,
            None => None,
        };
        let last_membership = match membership {
            Some(bytes) => decode(&bytes)?,
            None => StoredMembership::default(),
        };
        Ok(StateMachine {
            disk,
            trees,
            last_applied,
            last_membership,
            current_snapshot: Arc::new(Mutex::new(None)),
        })
    }

    /// A read handle on the grant trees; it sees each entry once `apply` has committed it.
    #[cfg(test)]
    pub(crate) fn trees(&self) -> GrantTrees {
        self.trees.clone()
    }

    /// A read-only handle on the committed grants, for serving reads (see
    /// [`crate::replica::Replica`]).
    pub fn reader(&self) -> GrantReader {
        GrantReader::new(self.trees.clone())
    }

    /// Applies one entry: its command's writes and the new applied log id in one transaction.
    fn apply_one(&mut self, entry: LogEntry) -> io::Result<Response> {
        let log_id = entry.log_id;
        let mut writes = WriteSet::new(&self.trees);
        let mut membership = None;
        let response = match entry.payload {
            EntryPayload::Blank => Response::Empty,
            EntryPayload::Normal(request) => commands::plan_batch(&request, &mut writes)?,
            EntryPayload::Membership(config) => {
                let stored = StoredMembership::new(Some(log_id), config);
                writes.set_last_membership(encode(&stored)?);
                membership = Some(stored);
                Response::Empty
            }
        };
        writes.set_last_applied(encode(&Some(log_id))?);
        self.trees.commit(writes)?;
        self.last_applied = Some(log_id);
        if let Some(stored) = membership {
            self.last_membership = stored;
        }
        Ok(response)
    }
}

fn lock_snapshot(
    current: &Mutex<Option<StoredSnapshot>>,
) -> io::Result<std::sync::MutexGuard<'_, Option<StoredSnapshot>>> {
    current
        .lock()
        .map_err(|_| io::Error::other("snapshot lock poisoned"))
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId>, StoredMembership<NodeId, Node>), StorageError> {
        Ok((self.last_applied, self.last_membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Response>, StorageError>
    where
        I: IntoIterator<Item = LogEntry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries = entries.into_iter();
        let mut responses = Vec::with_capacity(entries.size_hint().0);
        for entry in entries {
            let log_id = entry.log_id;
            let response = self
                .apply_one(entry)
                .map_err(|e| StorageError::from(StorageIOError::apply(log_id, &e)))?;
            responses.push(response);
        }
        Ok(responses)
    }

    async fn get_snapshot_builder(&mut self) -> SnapshotBuilder {
        // Copy the grants now, while no entry is being applied: the builder runs concurrently
        // with later applies and must see this state, not a mix.
        SnapshotBuilder {
            disk: Arc::clone(&self.disk),
            last_applied: self.last_applied,
            last_membership: self.last_membership.clone(),
            state: RawState::copy(&self.trees),
            current_snapshot: Arc::clone(&self.current_snapshot),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, Node>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let read_err = |e: io::Error| {
            StorageError::from(StorageIOError::read_snapshot(Some(meta.signature()), &e))
        };
        let write_err = |e: io::Error| {
            StorageError::from(StorageIOError::write_snapshot(Some(meta.signature()), &e))
        };
        let data = snapshot.into_inner();
        let (last_applied, last_membership, grants, rotations, requests) =
            match decode(&data).map_err(read_err)? {
                SnapshotContents::V1 {
                    last_applied,
                    last_membership,
                    grants,
                } => (
                    last_applied,
                    last_membership,
                    grants,
                    Vec::new(),
                    Vec::new(),
                ),
                SnapshotContents::V2 {
                    last_applied,
                    last_membership,
                    grants,
                    rotations,
                    requests,
                } => (last_applied, last_membership, grants, rotations, requests),
            };
        if last_applied != meta.last_log_id || last_membership != meta.last_membership {
            return Err(read_err(io::Error::new(
                io::ErrorKind::InvalidData,
                "snapshot data does not match its metadata",
            )));
        }

        let mut writes = WriteSet::new(&self.trees);
        writes.clear_all().map_err(write_err)?;
        for grant in &grants {
            writes.insert_grant(grant).map_err(write_err)?;
        }
        for (key, record) in &rotations {
            writes.set_rotation(key, record).map_err(write_err)?;
        }
        for (id, record) in &requests {
            writes.remember_request(id, record).map_err(write_err)?;
        }
        writes.set_last_applied(encode(&meta.last_log_id).map_err(write_err)?);
        writes.set_last_membership(encode(&meta.last_membership).map_err(write_err)?);
        self.trees.commit(writes).map_err(write_err)?;
        self.last_applied = meta.last_log_id;
        self.last_membership = meta.last_membership.clone();
        self.disk.sync().await.map_err(write_err)?;

        *lock_snapshot(&self.current_snapshot).map_err(write_err)? = Some(StoredSnapshot {
            meta: meta.clone(),
            data,
        });
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let current = lock_snapshot(&self.current_snapshot)
            .map_err(|e| StorageError::from(StorageIOError::read_snapshot(None, &e)))?
            .clone();
        Ok(current.map(|stored| Snapshot {
            meta: stored.meta,
            snapshot: Box::new(Cursor::new(stored.data)),
        }))
    }
}

/// Builds a snapshot from the copy of the state taken by
/// [`RaftStateMachine::get_snapshot_builder`].
pub struct SnapshotBuilder {
    disk: Arc<Disk>,
    last_applied: Option<LogId>,
    last_membership: StoredMembership<NodeId, Node>,
    state: io::Result<RawState>,
    current_snapshot: Arc<Mutex<Option<StoredSnapshot>>>,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let read_err = |e: io::Error| StorageError::from(StorageIOError::read_state_machine(&e));
        let empty = RawState {
            grants: Vec::new(),
            rotations: Vec::new(),
            requests: Vec::new(),
        };
        let raw = std::mem::replace(&mut self.state, Ok(empty)).map_err(read_err)?;
        let grants = raw
            .grants
            .iter()
            .map(|bytes| decode::<Grant>(bytes))
            .collect::<io::Result<Vec<_>>>()
            .map_err(read_err)?;
        let rotations = raw
            .rotations
            .iter()
            .map(|(k, v)| Ok((GrantKey::from_bytes(fixed(k)?), decode(v)?)))
            .collect::<io::Result<Vec<_>>>()
            .map_err(read_err)?;
        let requests = raw
            .requests
            .iter()
            .map(|(k, v)| Ok((RequestId(fixed(k)?), decode(v)?)))
            .collect::<io::Result<Vec<_>>>()
            .map_err(read_err)?;
        let data = encode(&SnapshotContents::V2 {
            last_applied: self.last_applied,
            last_membership: self.last_membership.clone(),
            grants,
            rotations,
            requests,
        })
        .map_err(read_err)?;

        let seq = self
            .disk
            .db()
            .generate_id()
            .map_err(|e| read_err(e.into()))?;
        let snapshot_id = match &self.last_applied {
            Some(id) => format!(
                "{}-{}-{}-{seq}",
                id.leader_id.term, id.leader_id.node_id, id.index
            ),
            None => format!("none-{seq}"),
        };
        let meta = SnapshotMeta {
            last_log_id: self.last_applied,
            last_membership: self.last_membership.clone(),
            snapshot_id,
        };

        // The state this snapshot describes must be durable before openraft purges the log
        // entries that produced it.
        self.disk.sync().await.map_err(|e| {
            StorageError::from(StorageIOError::write_snapshot(Some(meta.signature()), &e))
        })?;

        *lock_snapshot(&self.current_snapshot).map_err(read_err)? = Some(StoredSnapshot {
            meta: meta.clone(),
            data: data.clone(),
        });
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }
}
