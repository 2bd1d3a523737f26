//! The embedded store of `sigil dev`: the cluster's state machine and log store, run as a
//! single-node Raft group inside the process.
//!
//! It is a thin wrapper: [`crate::node::open_node`] with a network that has no peers, a
//! [`Replica`] serving from it (writes batched through Raft exactly as in the cluster: propose,
//! append and fsync, apply; reads behind the read gate, immediate for a lone voter), and the
//! expiry sweeper.

use crate::error;
use crate::network::SingleNodeNetwork;
use crate::node::{StorageHandle, open_node};
use crate::replica::{Replica, ReplicaOptions};
use crate::sweeper::Sweeper;
use crate::types::{Node, NodeId, StoreRaft};
use async_trait::async_trait;
use openraft::{Config, RaftMetrics, SnapshotPolicy};
use sigil_core::handle::GrantKey;
use sigil_core::store::{
    ConsumeOutcome, Grant, GrantStore, PutOutcome, RevokeTarget, RotateOutcome, Rotation,
    StoreError, Throttle, ThrottleOutcome,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The embedded node's id; it is the only member of its group.
const NODE_ID: NodeId = 1;

/// Tuning for [`EmbeddedStore`]. Start from [`EmbeddedOptions::default`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EmbeddedOptions {
    /// Build a snapshot after this many log entries since the last one.
    pub snapshot_every: u64,
    /// Log entries kept behind a snapshot; the rest of the log is purged.
    pub logs_kept_after_snapshot: u64,
    /// How often expired grants (and old request ids) are swept.
    pub sweep_interval: Duration,
    /// At most this many grants per sweep command.
    pub sweep_limit: u64,
    /// How long a write or read may wait for Raft before failing as unavailable; also bounds
    /// the wait for leadership at open.
    pub request_timeout: Duration,
    /// At most this many proposals per log entry.
    pub max_batch: usize,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            snapshot_every: 5_000,
            logs_kept_after_snapshot: 100,
            sweep_interval: Duration::from_secs(5),
            sweep_limit: 1_000,
            request_timeout: Duration::from_secs(10),
            max_batch: ReplicaOptions::default().max_batch,
        }
    }
}

/// A single-node grant store persisted in one directory.
pub struct EmbeddedStore {
    replica: Replica,
    storage: StorageHandle,
    sweeper: Mutex<Option<Sweeper>>,
    request_timeout: Duration,
}

impl EmbeddedStore {
    /// Opens the store in `dir` (created if missing) with default options. See
    /// [`EmbeddedStore::open_with`].
    pub async fn open(dir: &Path) -> Result<EmbeddedStore, StoreError> {
        Self::open_with(dir, EmbeddedOptions::default()).await
    }

    /// Opens the store in `dir`, which it owns: on first start it creates the group, on later
    /// starts it recovers every grant from what is on disk. Returns once this node leads and
    /// can serve. Only one process may open a directory at a time.
    pub async fn open_with(
        dir: &Path,
        options: EmbeddedOptions,
    ) -> Result<EmbeddedStore, StoreError> {
        let config = Config {
            cluster_name: "sigil-embedded".into(),
            // A lone voter elects itself when its election timer first fires; keep that short.
            election_timeout_min: 150,
            election_timeout_max: 300,
            heartbeat_interval: 50,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(options.snapshot_every),
            max_in_snapshot_log_to_keep: options.logs_kept_after_snapshot,
            ..Config::default()
        }
        .validate()
        .map_err(|e| StoreError::internal_from("raft configuration", e))?;

        let node = open_node(dir, NODE_ID, Arc::new(config), SingleNodeNetwork).await?;
        if let Err(e) = Self::become_leader(&node.raft, options.request_timeout).await {
            let _ = node.raft.shutdown().await;
            return Err(e);
        }

        let replica = Replica::new(
            node.raft,
            node.reader,
            ReplicaOptions {
                request_timeout: options.request_timeout,
                max_batch: options.max_batch,
                ..ReplicaOptions::default()
            },
        );
        let sweeper = Sweeper::spawn(
            replica.clone(),
            NODE_ID,
            options.sweep_interval,
            options.sweep_limit,
        );
        Ok(EmbeddedStore {
            replica,
            storage: node.storage,
            sweeper: Mutex::new(Some(sweeper)),
            request_timeout: options.request_timeout,
        })
    }

    /// Creates the group on first start, then waits until this node leads.
    async fn become_leader(raft: &StoreRaft, timeout: Duration) -> Result<(), StoreError> {
        if !raft.is_initialized().await.map_err(error::from_fatal)? {
            let members = BTreeMap::from([(NODE_ID, Node::default())]);
            raft.initialize(members)
                .await
                .map_err(|e| StoreError::internal_from("initializing the store", e))?;
        }
        raft.wait(Some(timeout))
            .current_leader(NODE_ID, "the embedded store leads its group")
            .await
            .map_err(|e| StoreError::unavailable_from("the embedded store did not start", e))?;
        Ok(())
    }

    /// The replica serving this store (for request ids: [`Replica::submit`]).
    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    /// Raft's view of this node: log, applied, snapshot and purged positions, leadership.
    pub fn metrics(&self) -> RaftMetrics<NodeId, Node> {
        self.replica.raft().metrics().borrow().clone()
    }

    /// Stops the sweeper, the replica and Raft, waits until the log store and state machine
    /// are closed, and syncs the database. Once it returns and the store is dropped, the
    /// directory can be opened again. Calls after shutdown fail as unavailable.
    pub async fn shutdown(&self) -> Result<(), StoreError> {
        let sweeper = self.sweeper.lock().ok().and_then(|mut s| s.take());
        if let Some(sweeper) = sweeper {
            sweeper.stop().await;
        }
        self.replica.shutdown().await;
        self.replica
            .raft()
            .shutdown()
            .await
            .map_err(|e| StoreError::internal_from("stopping raft", e))?;
        self.storage.close(self.request_timeout).await
    }

    /// Proposes a command without a request id and returns what applying it gave.
    #[cfg(test)]
    pub(crate) async fn write(
        &self,
        command: crate::types::Command,
    ) -> Result<crate::types::Response, StoreError> {
        self.replica.submit(None, command).await
    }

    /// The state machine's trees (for tests that look beneath the API).
    #[cfg(test)]
    pub(crate) fn trees(&self) -> &crate::grant_trees::GrantTrees {
        self.replica.reader().trees()
    }

    /// The database (for tests that look beneath the API).
    #[cfg(test)]
    pub(crate) fn disk(&self) -> &crate::disk::Disk {
        self.storage.disk()
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        if let Some(sweeper) = self.sweeper.get_mut().ok().and_then(Option::take) {
            sweeper.abort();
        }
    }
}

#[async_trait]
impl GrantStore for EmbeddedStore {
    async fn put(&self, grant: Grant) -> Result<PutOutcome, StoreError> {
        GrantStore::put(&self.replica, grant).await
    }

    async fn get(&self, key: &GrantKey) -> Result<Option<Grant>, StoreError> {
        self.replica.get(key).await
    }

    async fn consume(&self, key: &GrantKey) -> Result<ConsumeOutcome, StoreError> {
        GrantStore::consume(&self.replica, key).await
    }

    async fn revoke(&self, target: RevokeTarget) -> Result<u64, StoreError> {
        GrantStore::revoke(&self.replica, target).await
    }

    async fn rotate(&self, rotation: Rotation) -> Result<RotateOutcome, StoreError> {
        GrantStore::rotate(&self.replica, rotation).await
    }

    async fn list_by_subject(&self, subject: &str) -> Result<Vec<Grant>, StoreError> {
        self.replica.list_by_subject(subject).await
    }

    async fn throttle(&self, command: Throttle) -> Result<ThrottleOutcome, StoreError> {
        GrantStore::throttle(&self.replica, command).await
    }
}
