//! Starting a store node: storage in a directory plus a Raft node over it.
//!
//! [`open_node`] is the startup both the embedded store and a cluster node share; the caller
//! brings the Raft configuration and the network, then wraps the result in a
//! [`crate::replica::Replica`]. Call [`StorageHandle::close`] after `raft.shutdown()` to wait
//! until Raft has let go of the storage and sync it, so the directory can be opened again.

use crate::disk::Disk;
use crate::error;
use crate::log_store::LogStore;
use crate::reader::GrantReader;
use crate::state_machine::StateMachine;
use crate::types::{NodeId, StoreRaft, TypeConfig};
use openraft::{Config, Raft, RaftNetworkFactory};
use sigil_core::store::StoreError;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A started Raft node over its storage.
pub struct OpenNode {
    /// The Raft node.
    pub raft: StoreRaft,
    /// Reads of the node's state machine.
    pub reader: GrantReader,
    /// The storage beneath, for closing it cleanly.
    pub storage: StorageHandle,
}

/// The storage of an [`OpenNode`].
pub struct StorageHandle {
    disk: Arc<Disk>,
}

impl StorageHandle {
    /// After `raft.shutdown()`: waits (up to `timeout`) until Raft's tasks have let go of the
    /// storage, then syncs the database.
    pub async fn close(&self, timeout: Duration) -> Result<(), StoreError> {
        // Raft's state machine task lets go of its handles shortly after the core stops.
        let deadline = Instant::now() + timeout;
        while Arc::strong_count(&self.disk) > 1 {
            if Instant::now() >= deadline {
                return Err(StoreError::internal(
                    "raft storage still in use after shutdown",
                ));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.disk
            .sync()
            .await
            .map_err(|e| StoreError::internal_from("syncing the grant store", e))
    }

    /// The database (for tests that look beneath the API).
    #[cfg(test)]
    pub(crate) fn disk(&self) -> &Disk {
        &self.disk
    }
}

/// Opens the storage in `dir` (created if missing) and starts Raft node `node_id` over it
/// with `config` and `network`. The node is not initialized here: a new group still needs
/// `raft.initialize(..)` on one member.
pub async fn open_node<N>(
    dir: &Path,
    node_id: NodeId,
    config: Arc<Config>,
    network: N,
) -> Result<OpenNode, StoreError>
where
    N: RaftNetworkFactory<TypeConfig>,
{
    let internal = |what: &str, e| StoreError::internal_from(what, e);
    let disk = Disk::open(dir)
        .map_err(|e| internal(&format!("opening the grant store in {}", dir.display()), e))?;
    let log_store =
        LogStore::open(Arc::clone(&disk)).map_err(|e| internal("opening the raft log", e))?;
    let state_machine = StateMachine::open(Arc::clone(&disk))
        .map_err(|e| internal("opening the state machine", e))?;
    let reader = state_machine.reader();
    let raft = Raft::new(node_id, config, network, log_store, state_machine)
        .await
        .map_err(error::from_fatal)?;
    Ok(OpenNode {
        raft,
        reader,
        storage: StorageHandle { disk },
    })
}
