//! The state machine's sled trees: grants by key, the four indexes, rotation records,
//! remembered request ids, and the applied state.
//!
//! | tree                | key                                   | value                       |
//! |---------------------|---------------------------------------|-----------------------------|
//! | `grants`            | grant key (32 bytes)                  | the grant                   |
//! | `grants_by_family`  | family (16) ‖ key                     | empty                       |
//! | `grants_by_subject` | len(subject) (8) ‖ subject ‖ key      | empty                       |
//! | `grants_by_client`  | len(client id) (8) ‖ client id ‖ key  | empty                       |
//! | `grants_by_expiry`  | expires_at (8) ‖ key                  | empty                       |
//! | `rotations`         | presented key (32)                    | successor key, rotated at   |
//! | `requests`          | request id (16)                       | applied at, response        |
//! | `requests_by_time`  | applied at (8) ‖ request id           | empty                       |
//! | `sm_meta`           | `last_applied`, `last_membership`     | log id, stored membership   |
//!
//! Numbers are big-endian, so sled's byte order is numeric order.
//!
//! All changes one log entry makes are collected in a [`WriteSet`] and committed in one sled
//! transaction together with the new applied log id, so a crash leaves either all of them or
//! none, never an index out of step with the grants. A write set is also a view: reads through
//! it see its own pending writes, so the proposals of one batch see each other's effects.

use crate::codec::{
    self, encode, expiry_index_key, family_index_key, grant_key, index_key_target, name_index_key,
    name_prefix,
};
use crate::types::RequestId;
use serde::{Deserialize, Serialize};
use sigil_core::handle::GrantKey;
use sigil_core::store::Grant;
use sigil_core::time::Timestamp;
use sled::transaction::ConflictableTransactionError;
use sled::{IVec, Transactional};
use std::collections::BTreeMap;
use std::io;

const LAST_APPLIED: &[u8] = b"last_applied";
const LAST_MEMBERSHIP: &[u8] = b"last_membership";

/// Names one of the state machine's trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum TreeId {
    Grants,
    Family,
    Subject,
    Client,
    Expiry,
    Rotations,
    Requests,
    RequestsByTime,
    Meta,
}

/// Every tree, in the order a transaction lists them.
const ALL_TREES: [TreeId; 9] = [
    TreeId::Grants,
    TreeId::Family,
    TreeId::Subject,
    TreeId::Client,
    TreeId::Expiry,
    TreeId::Rotations,
    TreeId::Requests,
    TreeId::RequestsByTime,
    TreeId::Meta,
];

/// What the state machine remembers about a rotated refresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RotationRecord {
    /// The key of the successor the rotation stored.
    pub(crate) successor: GrantKey,
    /// When the rotation was applied.
    pub(crate) rotated_at: Timestamp,
}

/// What the state machine remembers about an applied request id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RequestRecord {
    /// When the request was applied.
    pub(crate) applied_at: Timestamp,
    /// The encoded [`crate::types::Response`] it produced.
    pub(crate) response: Vec<u8>,
}

/// Handles on the state machine's trees. Cloning is cheap; reads through a clone see every
/// committed entry.
#[derive(Clone)]
pub(crate) struct GrantTrees {
    pub(crate) grants: sled::Tree,
    pub(crate) by_family: sled::Tree,
    pub(crate) by_subject: sled::Tree,
    pub(crate) by_client: sled::Tree,
    pub(crate) by_expiry: sled::Tree,
    pub(crate) rotations: sled::Tree,
    pub(crate) requests: sled::Tree,
    pub(crate) requests_by_time: sled::Tree,
    pub(crate) meta: sled::Tree,
}

impl GrantTrees {
    /// Opens (creating if needed) the trees in `db`.
    pub(crate) fn open(db: &sled::Db) -> io::Result<Self> {
        Ok(GrantTrees {
            grants: db.open_tree("grants")?,
            by_family: db.open_tree("grants_by_family")?,
            by_subject: db.open_tree("grants_by_subject")?,
            by_client: db.open_tree("grants_by_client")?,
            by_expiry: db.open_tree("grants_by_expiry")?,
            rotations: db.open_tree("rotations")?,
            requests: db.open_tree("requests")?,
            requests_by_time: db.open_tree("requests_by_time")?,
            meta: db.open_tree("sm_meta")?,
        })
    }

    /// The tree `id` names.
    pub(crate) fn tree(&self, id: TreeId) -> &sled::Tree {
        match id {
            TreeId::Grants => &self.grants,
            TreeId::Family => &self.by_family,
            TreeId::Subject => &self.by_subject,
            TreeId::Client => &self.by_client,
            TreeId::Expiry => &self.by_expiry,
            TreeId::Rotations => &self.rotations,
            TreeId::Requests => &self.requests,
            TreeId::RequestsByTime => &self.requests_by_time,
            TreeId::Meta => &self.meta,
        }
    }

    /// The stored grant under `key`, live or not (committed state only).
    pub(crate) fn get(&self, key: &GrantKey) -> io::Result<Option<Grant>> {
        match self.grants.get(grant_key(key))? {
            Some(bytes) => codec::decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The grants of a subject whose `expires_at` `now` has not reached, in key order
    /// (committed state only).
    pub(crate) fn live_by_subject(&self, subject: &str, now: Timestamp) -> io::Result<Vec<Grant>> {
        let mut out = Vec::new();
        for item in self.by_subject.scan_prefix(name_prefix(subject)).keys() {
            let entry = item?;
            let key = index_key_target(&entry)
                .ok_or_else(|| corrupt("index entry shorter than a grant key"))?;
            match self.get(&key)? {
                Some(grant) if !now.reached(grant.expires_at) => out.push(grant),
                _ => {}
            }
        }
        out.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
        Ok(out)
    }

    /// The last applied log id and membership, as stored (encoded).
    pub(crate) fn applied_state_bytes(&self) -> io::Result<(Option<IVec>, Option<IVec>)> {
        Ok((
            self.meta.get(LAST_APPLIED)?,
            self.meta.get(LAST_MEMBERSHIP)?,
        ))
    }

    /// Commits a write set atomically across all trees.
    pub(crate) fn commit(&self, writes: WriteSet<'_>) -> io::Result<()> {
        let mut batches: Vec<sled::Batch> =
            ALL_TREES.iter().map(|_| sled::Batch::default()).collect();
        for ((id, key), value) in writes.changes {
            let slot = ALL_TREES.iter().position(|t| *t == id);
            if let Some(batch) = slot.and_then(|i| batches.get_mut(i)) {
                match value {
                    Some(value) => batch.insert(key, value),
                    None => batch.remove(key),
                }
            }
        }
        let trees: Vec<&sled::Tree> = ALL_TREES.iter().map(|id| self.tree(*id)).collect();
        trees
            .as_slice()
            .transaction(|views| {
                for (view, batch) in views.iter().zip(&batches) {
                    view.apply_batch(batch)?;
                }
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(|e| io::Error::other(format!("state machine transaction failed: {e:?}")))
    }
}

/// Every change one log entry makes, across all trees, readable before it is committed. Within
/// a tree the last write to a key wins, so removing a grant and storing its replacement under
/// the same key is one write.
pub(crate) struct WriteSet<'t> {
    trees: &'t GrantTrees,
    /// Pending writes: `None` removes the key.
    changes: BTreeMap<(TreeId, Vec<u8>), Option<Vec<u8>>>,
}

impl<'t> WriteSet<'t> {
    /// An empty write set over `trees`.
    pub(crate) fn new(trees: &'t GrantTrees) -> Self {
        WriteSet {
            trees,
            changes: BTreeMap::new(),
        }
    }

    fn put(&mut self, tree: TreeId, key: &[u8], value: Vec<u8>) {
        self.changes.insert((tree, key.to_vec()), Some(value));
    }

    fn delete(&mut self, tree: TreeId, key: &[u8]) {
        self.changes.insert((tree, key.to_vec()), None);
    }

    /// The value under `key` in `tree`, with this write set's pending writes applied.
    fn read(&self, tree: TreeId, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        match self.changes.get(&(tree, key.to_vec())) {
            Some(pending) => Ok(pending.clone()),
            None => Ok(self.trees.tree(tree).get(key)?.map(|v| v.to_vec())),
        }
    }

    /// Up to `limit` keys of `tree` starting with `prefix`, in order, with pending writes
    /// applied.
    pub(crate) fn keys_with_prefix(
        &self,
        tree: TreeId,
        prefix: &[u8],
        limit: usize,
    ) -> io::Result<Vec<Vec<u8>>> {
        let mut committed = self.trees.tree(tree).scan_prefix(prefix).keys().peekable();
        let mut pending = self
            .changes
            .range((tree, prefix.to_vec())..)
            .take_while(|((t, k), _)| *t == tree && k.starts_with(prefix))
            .peekable();
        let mut out = Vec::new();
        while out.len() < limit {
            let next_committed = match committed.peek() {
                Some(Ok(key)) => Some(key.to_vec()),
                Some(Err(_)) => match committed.next() {
                    Some(Err(e)) => return Err(e.into()),
                    _ => None,
                },
                None => None,
            };
            let next_pending = pending.peek().map(|((_, k), v)| (k.clone(), v.is_some()));
            let (key, present) = match (next_committed, next_pending) {
                (None, None) => break,
                (Some(c), None) => {
                    committed.next();
                    (c, true)
                }
                (None, Some((p, present))) => {
                    pending.next();
                    (p, present)
                }
                (Some(c), Some((p, present))) => {
                    if p <= c {
                        pending.next();
                        if p == c {
                            committed.next();
                        }
                        (p, present)
                    } else {
                        committed.next();
                        (c, true)
                    }
                }
            };
            if present {
                out.push(key);
            }
        }
        Ok(out)
    }

    /// The grant under `key`, live or not, as this write set leaves it.
    pub(crate) fn grant(&self, key: &GrantKey) -> io::Result<Option<Grant>> {
        match self.read(TreeId::Grants, &grant_key(key))? {
            Some(bytes) => codec::decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Stores a grant and its index entries.
    pub(crate) fn insert_grant(&mut self, grant: &Grant) -> io::Result<()> {
        let key = &grant.key;
        self.put(TreeId::Grants, &grant_key(key), encode(grant)?);
        if let Some(family) = &grant.family {
            self.put(TreeId::Family, &family_index_key(family, key), Vec::new());
        }
        if let Some(subject) = &grant.subject {
            self.put(TreeId::Subject, &name_index_key(subject, key), Vec::new());
        }
        self.put(
            TreeId::Client,
            &name_index_key(&grant.client_id, key),
            Vec::new(),
        );
        self.put(
            TreeId::Expiry,
            &expiry_index_key(grant.expires_at, key),
            Vec::new(),
        );
        Ok(())
    }

    /// Rewrites a stored grant whose indexed fields did not change.
    pub(crate) fn update_grant(&mut self, grant: &Grant) -> io::Result<()> {
        self.put(TreeId::Grants, &grant_key(&grant.key), encode(grant)?);
        Ok(())
    }

    /// Removes a stored grant, its index entries and its rotation record.
    pub(crate) fn remove_grant(&mut self, grant: &Grant) {
        let key = &grant.key;
        self.delete(TreeId::Grants, &grant_key(key));
        if let Some(family) = &grant.family {
            self.delete(TreeId::Family, &family_index_key(family, key));
        }
        if let Some(subject) = &grant.subject {
            self.delete(TreeId::Subject, &name_index_key(subject, key));
        }
        self.delete(TreeId::Client, &name_index_key(&grant.client_id, key));
        self.delete(TreeId::Expiry, &expiry_index_key(grant.expires_at, key));
        self.delete(TreeId::Rotations, key.as_bytes());
    }

    /// Removes an index entry whose grant is gone (never expected; repaired if met).
    pub(crate) fn remove_index_entry(&mut self, index: TreeId, entry: &[u8]) {
        self.delete(index, entry);
    }

    /// The rotation record of the presented token `key`, if it was rotated.
    pub(crate) fn rotation(&self, key: &GrantKey) -> io::Result<Option<RotationRecord>> {
        match self.read(TreeId::Rotations, key.as_bytes())? {
            Some(bytes) => codec::decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Records that the token `key` was rotated.
    pub(crate) fn set_rotation(
        &mut self,
        key: &GrantKey,
        record: &RotationRecord,
    ) -> io::Result<()> {
        self.put(TreeId::Rotations, key.as_bytes(), encode(record)?);
        Ok(())
    }

    /// What applying request `id` returned, if it is remembered.
    pub(crate) fn request(&self, id: &RequestId) -> io::Result<Option<RequestRecord>> {
        match self.read(TreeId::Requests, &id.0)? {
            Some(bytes) => codec::decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Remembers what applying request `id` returned.
    pub(crate) fn remember_request(
        &mut self,
        id: &RequestId,
        record: &RequestRecord,
    ) -> io::Result<()> {
        if let Some(old) = self.request(id)? {
            self.delete(
                TreeId::RequestsByTime,
                &request_time_key(old.applied_at, id),
            );
        }
        self.put(TreeId::Requests, &id.0, encode(record)?);
        self.put(
            TreeId::RequestsByTime,
            &request_time_key(record.applied_at, id),
            Vec::new(),
        );
        Ok(())
    }

    /// Forgets a remembered request id, given its time index entry.
    pub(crate) fn forget_request(&mut self, time_entry: &[u8]) {
        if let Some(id) = parse_request_time_key(time_entry) {
            self.delete(TreeId::Requests, &id.0);
        }
        self.delete(TreeId::RequestsByTime, time_entry);
    }

    /// Records the last applied log id (encoded).
    pub(crate) fn set_last_applied(&mut self, encoded: Vec<u8>) {
        self.put(TreeId::Meta, LAST_APPLIED, encoded);
    }

    /// Records the last membership (encoded).
    pub(crate) fn set_last_membership(&mut self, encoded: Vec<u8>) {
        self.put(TreeId::Meta, LAST_MEMBERSHIP, encoded);
    }

    /// Empties every tree (for installing a snapshot over the current state).
    pub(crate) fn clear_all(&mut self) -> io::Result<()> {
        for id in ALL_TREES {
            for key in self.trees.tree(id).iter().keys() {
                self.delete(id, &key?);
            }
        }
        Ok(())
    }
}

/// `applied_at (u64, big-endian) || request id`.
pub(crate) fn request_time_key(applied_at: Timestamp, id: &RequestId) -> [u8; 24] {
    let mut out = [0u8; 24];
    let (time, rest) = out.split_at_mut(8);
    time.copy_from_slice(&applied_at.as_secs().to_be_bytes());
    rest.copy_from_slice(&id.0);
    out
}

/// Splits a `requests_by_time` key back into its parts.
pub(crate) fn parse_request_time_key(bytes: &[u8]) -> Option<RequestId> {
    let (_, id) = bytes.split_first_chunk::<8>()?;
    let id: [u8; 16] = id.try_into().ok()?;
    Some(RequestId(id))
}

/// The time a `requests_by_time` key starts with.
pub(crate) fn request_time_of(bytes: &[u8]) -> Option<Timestamp> {
    let (time, _) = bytes.split_first_chunk::<8>()?;
    Some(Timestamp(u64::from_be_bytes(*time)))
}

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}
