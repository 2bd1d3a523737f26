//! openraft's own storage test suite against the log store and state machine.

use crate::types::{StorageError, TypeConfig};
use crate::{LogStore, StateMachine};
use openraft::StorageIOError;
use openraft::testing::{StoreBuilder, Suite};
use tempfile::TempDir;

/// A fresh store in a fresh temporary directory per suite case; the directory is the guard.
struct TempStoreBuilder;

impl StoreBuilder<TypeConfig, LogStore, StateMachine, TempDir> for TempStoreBuilder {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachine), StorageError> {
        let io_err = |e: std::io::Error| StorageError::from(StorageIOError::write(&e));
        let dir = tempfile::tempdir().map_err(io_err)?;
        let (log_store, state_machine) = crate::open_storage(dir.path()).map_err(io_err)?;
        Ok((dir, log_store, state_machine))
    }
}

#[test]
fn openraft_storage_suite() {
    Suite::test_all(TempStoreBuilder).unwrap();
}
