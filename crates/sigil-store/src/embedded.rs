//! The embedded store of `sigil dev`: the cluster's state machine and log store, run as a
//! single-node Raft group inside the process.
//!
//! Writes go through Raft exactly as in the cluster (propose, append and fsync, apply); reads
//! confirm leadership (`ensure_linearizable`, immediate for a lone voter) and then read the
//! state machine's trees directly.

use crate::disk::Disk;
use crate::error;
use crate::grant_trees::GrantTrees;
use crate::log_store::LogStore;
use crate::network::SingleNodeNetwork;
use crate::state_machine::StateMachine;
use crate::sweeper::Sweeper;
use crate::types::{Command, Node, NodeId, Request, Response, StoreRaft};
use async_trait::async_trait;
use openraft::{Config, Raft, RaftMetrics, SnapshotPolicy};
use sigil_core::handle::GrantKey;
use sigil_core::store::{ConsumeOutcome, Grant, GrantStore, PutOutcome, RevokeTarget, StoreError};
use sigil_core::time::Timestamp;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    /// How often expired grants are swept.
    pub sweep_interval: Duration,
    /// At most this many grants per sweep command.
    pub sweep_limit: u64,
    /// How long a write or read may wait for Raft before failing as unavailable; also bounds
    /// the wait for leadership at open.
    pub request_timeout: Duration,
}

impl Default for EmbeddedOptions {
    fn default() -> Self {
        EmbeddedOptions {
            snapshot_every: 5_000,
            logs_kept_after_snapshot: 100,
            sweep_interval: Duration::from_secs(5),
            sweep_limit: 1_000,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// A single-node grant store persisted in one directory.
pub struct EmbeddedStore {
    raft: StoreRaft,
    trees: GrantTrees,
    disk: Arc<Disk>,
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
        let internal =
            |what: &str, e: &dyn std::fmt::Display| StoreError::Internal(format!("{what}: {e}"));
        let disk = Disk::open(dir)
            .map_err(|e| internal(&format!("opening the grant store in {}", dir.display()), &e))?;
        let log_store =
            LogStore::open(Arc::clone(&disk)).map_err(|e| internal("opening the raft log", &e))?;
        let state_machine = StateMachine::open(Arc::clone(&disk))
            .map_err(|e| internal("opening the state machine", &e))?;
        let trees = state_machine.trees();

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
        .map_err(|e| internal("raft configuration", &e))?;

        let raft = Raft::new(
            NODE_ID,
            Arc::new(config),
            SingleNodeNetwork,
            log_store,
            state_machine,
        )
        .await
        .map_err(error::from_fatal)?;

        if let Err(e) = Self::become_leader(&raft, options.request_timeout).await {
            let _ = raft.shutdown().await;
            return Err(e);
        }

        let sweeper = Sweeper::spawn(
            raft.clone(),
            NODE_ID,
            options.sweep_interval,
            options.sweep_limit,
            options.request_timeout,
        );
        Ok(EmbeddedStore {
            raft,
            trees,
            disk,
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
                .map_err(|e| StoreError::Internal(format!("initializing the store: {e}")))?;
        }
        raft.wait(Some(timeout))
            .current_leader(NODE_ID, "the embedded store leads its group")
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("the embedded store did not start: {e}"))
            })?;
        Ok(())
    }

    /// Raft's view of this node: log, applied, snapshot and purged positions, leadership.
    pub fn metrics(&self) -> RaftMetrics<NodeId, Node> {
        self.raft.metrics().borrow().clone()
    }

    /// Stops the sweeper and Raft, waits until the log store and state machine are closed, and
    /// syncs the database. Once it returns and the store is dropped, the directory can be
    /// opened again. Calls after shutdown fail as unavailable.
    pub async fn shutdown(&self) -> Result<(), StoreError> {
        let sweeper = self.sweeper.lock().ok().and_then(|mut s| s.take());
        if let Some(sweeper) = sweeper {
            sweeper.stop().await;
        }
        self.raft
            .shutdown()
            .await
            .map_err(|e| StoreError::Internal(format!("stopping raft: {e}")))?;
        // Raft's state machine task lets go of its handles shortly after the core stops.
        let deadline = Instant::now() + self.request_timeout;
        while Arc::strong_count(&self.disk) > 1 {
            if Instant::now() >= deadline {
                return Err(StoreError::Internal(
                    "raft storage still in use after shutdown".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.disk
            .sync()
            .await
            .map_err(|e| StoreError::Internal(format!("syncing the grant store: {e}")))
    }

    /// Proposes a command stamped with this node's clock and returns what applying it gave.
    pub(crate) async fn write(&self, command: Command) -> Result<Response, StoreError> {
        let request = Request {
            now: Timestamp::now(),
            command,
        };
        match tokio::time::timeout(self.request_timeout, self.raft.client_write(request)).await {
            Ok(Ok(written)) => Ok(written.data),
            Ok(Err(e)) => Err(error::from_write(e)),
            Err(_) => Err(StoreError::Unavailable("write timed out".into())),
        }
    }

    /// The state machine's trees (for tests that look beneath the API).
    #[cfg(test)]
    pub(crate) fn trees(&self) -> &GrantTrees {
        &self.trees
    }

    /// The database (for tests that look beneath the API).
    #[cfg(test)]
    pub(crate) fn disk(&self) -> &Disk {
        &self.disk
    }
}

impl Drop for EmbeddedStore {
    fn drop(&mut self) {
        if let Some(sweeper) = self.sweeper.get_mut().ok().and_then(Option::take) {
            sweeper.abort();
        }
    }
}

fn unexpected(response: Response) -> StoreError {
    StoreError::Internal(format!("unexpected state machine response: {response:?}"))
}

#[async_trait]
impl GrantStore for EmbeddedStore {
    async fn put(&self, grant: Grant) -> Result<PutOutcome, StoreError> {
        match self.write(Command::Put { grant }).await? {
            Response::Put(outcome) => Ok(outcome),
            other => Err(unexpected(other)),
        }
    }

    async fn get(&self, key: &GrantKey) -> Result<Option<Grant>, StoreError> {
        match tokio::time::timeout(self.request_timeout, self.raft.ensure_linearizable()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(error::from_read(e)),
            Err(_) => return Err(StoreError::Unavailable("read timed out".into())),
        }
        let grant = self
            .trees
            .get(key)
            .map_err(|e| StoreError::Internal(format!("reading a grant: {e}")))?;
        let now = Timestamp::now();
        Ok(grant.filter(|g| !now.reached(g.expires_at)))
    }

    async fn consume(&self, key: &GrantKey) -> Result<ConsumeOutcome, StoreError> {
        match self.write(Command::Consume { key: *key }).await? {
            Response::Consume(outcome) => Ok(outcome),
            other => Err(unexpected(other)),
        }
    }

    async fn revoke(&self, target: RevokeTarget) -> Result<u64, StoreError> {
        match self.write(Command::Revoke { target }).await? {
            Response::Revoked(removed) => Ok(removed),
            other => Err(unexpected(other)),
        }
    }
}
