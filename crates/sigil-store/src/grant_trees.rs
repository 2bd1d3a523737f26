//! The state machine's sled trees: grants by key, the four indexes, and the applied state.
//!
//! | tree                | key                                   | value                     |
//! |---------------------|---------------------------------------|---------------------------|
//! | `grants`            | grant key (32 bytes)                  | the grant                 |
//! | `grants_by_family`  | family (16) ‖ key                     | empty                     |
//! | `grants_by_subject` | len(subject) (8) ‖ subject ‖ key      | empty                     |
//! | `grants_by_client`  | len(client id) (8) ‖ client id ‖ key  | empty                     |
//! | `grants_by_expiry`  | expires_at (8) ‖ key                  | empty                     |
//! | `sm_meta`           | `last_applied`, `last_membership`     | log id, stored membership |
//!
//! Numbers are big-endian, so sled's byte order is numeric order.
//!
//! All changes one log entry makes are collected in a [`WriteSet`] and committed in one sled
//! transaction together with the new applied log id, so a crash leaves either all of them or
//! none, never an index out of step with the grants.

use crate::codec::{
    self, encode, expiry_index_key, family_index_key, grant_key, index_key_target, name_index_key,
};
use sigil_core::handle::GrantKey;
use sigil_core::store::Grant;
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;
use std::io;

const LAST_APPLIED: &[u8] = b"last_applied";
const LAST_MEMBERSHIP: &[u8] = b"last_membership";

/// Handles on the state machine's trees. Cloning is cheap; reads through a clone see every
/// committed entry.
#[derive(Clone)]
pub(crate) struct GrantTrees {
    pub(crate) grants: sled::Tree,
    pub(crate) by_family: sled::Tree,
    pub(crate) by_subject: sled::Tree,
    pub(crate) by_client: sled::Tree,
    pub(crate) by_expiry: sled::Tree,
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
            meta: db.open_tree("sm_meta")?,
        })
    }

    /// The stored grant under `key`, live or not.
    pub(crate) fn get(&self, key: &GrantKey) -> io::Result<Option<Grant>> {
        match self.grants.get(grant_key(key))? {
            Some(bytes) => codec::decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// The keys an index lists under `prefix`.
    pub(crate) fn keys_with_prefix(
        &self,
        index: &sled::Tree,
        prefix: &[u8],
    ) -> io::Result<Vec<(sled::IVec, GrantKey)>> {
        let mut out = Vec::new();
        for item in index.scan_prefix(prefix) {
            let (entry, _) = item?;
            let target = index_key_target(&entry)
                .ok_or_else(|| corrupt("index entry shorter than a grant key"))?;
            out.push((entry, target));
        }
        Ok(out)
    }

    /// The last applied log id and membership, as stored (encoded).
    pub(crate) fn applied_state_bytes(
        &self,
    ) -> io::Result<(Option<sled::IVec>, Option<sled::IVec>)> {
        Ok((
            self.meta.get(LAST_APPLIED)?,
            self.meta.get(LAST_MEMBERSHIP)?,
        ))
    }

    /// Commits a write set atomically across all trees.
    pub(crate) fn commit(&self, writes: &WriteSet) -> io::Result<()> {
        (
            &self.grants,
            &self.by_family,
            &self.by_subject,
            &self.by_client,
            &self.by_expiry,
            &self.meta,
        )
            .transaction(
                |(grants, by_family, by_subject, by_client, by_expiry, meta)| {
                    grants.apply_batch(&writes.grants)?;
                    by_family.apply_batch(&writes.by_family)?;
                    by_subject.apply_batch(&writes.by_subject)?;
                    by_client.apply_batch(&writes.by_client)?;
                    by_expiry.apply_batch(&writes.by_expiry)?;
                    meta.apply_batch(&writes.meta)?;
                    Ok::<(), ConflictableTransactionError<()>>(())
                },
            )
            .map_err(|e| io::Error::other(format!("state machine transaction failed: {e:?}")))
    }

    /// A write set that empties every tree (for installing a snapshot over the current state).
    pub(crate) fn clear_all(&self) -> io::Result<WriteSet> {
        let mut writes = WriteSet::default();
        for (tree, batch) in [
            (&self.grants, &mut writes.grants),
            (&self.by_family, &mut writes.by_family),
            (&self.by_subject, &mut writes.by_subject),
            (&self.by_client, &mut writes.by_client),
            (&self.by_expiry, &mut writes.by_expiry),
            (&self.meta, &mut writes.meta),
        ] {
            for key in tree.iter().keys() {
                batch.remove(key?);
            }
        }
        Ok(writes)
    }
}

/// Every change one log entry makes, across all trees. Within a tree the last write to a key
/// wins, so removing a grant and storing its replacement under the same key is one write.
#[derive(Default)]
pub(crate) struct WriteSet {
    grants: sled::Batch,
    by_family: sled::Batch,
    by_subject: sled::Batch,
    by_client: sled::Batch,
    by_expiry: sled::Batch,
    meta: sled::Batch,
}

impl WriteSet {
    /// Stores a grant and its index entries.
    pub(crate) fn insert_grant(&mut self, grant: &Grant) -> io::Result<()> {
        let key = &grant.key;
        self.grants.insert(&grant_key(key), encode(grant)?);
        if let Some(family) = &grant.family {
            self.by_family.insert(family_index_key(family, key), &[]);
        }
        if let Some(subject) = &grant.subject {
            self.by_subject.insert(name_index_key(subject, key), &[]);
        }
        self.by_client
            .insert(name_index_key(&grant.client_id, key), &[]);
        self.by_expiry
            .insert(expiry_index_key(grant.expires_at, key).as_slice(), &[]);
        Ok(())
    }

    /// Rewrites a stored grant whose indexed fields did not change.
    pub(crate) fn update_grant(&mut self, grant: &Grant) -> io::Result<()> {
        self.grants.insert(&grant_key(&grant.key), encode(grant)?);
        Ok(())
    }

    /// Removes a stored grant and its index entries.
    pub(crate) fn remove_grant(&mut self, grant: &Grant) {
        let key = &grant.key;
        self.grants.remove(&grant_key(key));
        if let Some(family) = &grant.family {
            self.by_family.remove(family_index_key(family, key));
        }
        if let Some(subject) = &grant.subject {
            self.by_subject.remove(name_index_key(subject, key));
        }
        self.by_client.remove(name_index_key(&grant.client_id, key));
        self.by_expiry
            .remove(expiry_index_key(grant.expires_at, key).as_slice());
    }

    /// Removes an index entry whose grant is gone (never expected; repaired if met).
    pub(crate) fn remove_index_entry(&mut self, index: Index, entry: sled::IVec) {
        let batch = match index {
            Index::Family => &mut self.by_family,
            Index::Subject => &mut self.by_subject,
            Index::Client => &mut self.by_client,
            Index::Expiry => &mut self.by_expiry,
        };
        batch.remove(entry);
    }

    /// Records the last applied log id (encoded).
    pub(crate) fn set_last_applied(&mut self, encoded: Vec<u8>) {
        self.meta.insert(LAST_APPLIED, encoded);
    }

    /// Records the last membership (encoded).
    pub(crate) fn set_last_membership(&mut self, encoded: Vec<u8>) {
        self.meta.insert(LAST_MEMBERSHIP, encoded);
    }
}

/// Names an index tree.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Index {
    Family,
    Subject,
    Client,
    Expiry,
}

impl Index {
    /// The tree of this index.
    pub(crate) fn tree(self, trees: &GrantTrees) -> &sled::Tree {
        match self {
            Index::Family => &trees.by_family,
            Index::Subject => &trees.by_subject,
            Index::Client => &trees.by_client,
            Index::Expiry => &trees.by_expiry,
        }
    }
}

fn corrupt(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}
