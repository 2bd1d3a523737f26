//! The read gate: linearizable reads that share one leadership check.
//!
//! A reader queues a reply channel and waits. One task takes every reader waiting at that
//! moment and calls `ensure_linearizable` once for all of them (the call starts after each of
//! them arrived, so it covers every write they could have seen acknowledged); readers arriving
//! meanwhile wait for the next call. The check also waits until this node has applied up to
//! the read point, so the state machine can then be read directly.
//!
//! A check that fails for want of a quorum (or in time) is logged here, once for the readers
//! it served; a node that is not the leader only answers so (the readers' clients follow the
//! hint). openraft's own per-voter line for a voter that missed a check is dropped by
//! [`crate::log_filter::QuietReadChecks`]: it is logged even when the check succeeded.

use crate::error;
use crate::types::StoreRaft;
use openraft::error::{CheckIsLeaderError, Fatal, RaftError};
use sigil_core::store::StoreError;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Where a reader learns that it may read.
pub(crate) type Waiter = oneshot::Sender<Result<(), StoreError>>;

/// Starts the gate task; it ends when every sender is dropped. `checks` counts the
/// leadership checks made.
pub(crate) fn spawn(
    raft: StoreRaft,
    timeout: Duration,
    checks: Arc<AtomicU64>,
) -> (mpsc::Sender<Waiter>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(4096);
    (tx, tokio::spawn(run(raft, rx, timeout, checks)))
}

async fn run(
    raft: StoreRaft,
    mut queue: mpsc::Receiver<Waiter>,
    timeout: Duration,
    checks: Arc<AtomicU64>,
) {
    while let Some(first) = queue.recv().await {
        let mut waiters = vec![first];
        while let Ok(waiter) = queue.try_recv() {
            waiters.push(waiter);
        }
        checks.fetch_add(1, Ordering::Relaxed);
        let result = match tokio::time::timeout(timeout, raft.ensure_linearizable()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(forward)))) => {
                tracing::debug!(%forward, "reads refused: not the leader");
                Err(StoreError::unavailable_from("not the leader", forward))
            }
            Ok(Err(e)) => {
                match &e {
                    RaftError::APIError(_) => {
                        tracing::warn!(error = %e, reads = waiters.len(), "reads refused: leadership not confirmed");
                    }
                    RaftError::Fatal(Fatal::Stopped) => {}
                    RaftError::Fatal(fatal) => {
                        tracing::error!(error = %fatal, reads = waiters.len(), "reads failed: raft stopped");
                    }
                }
                Err(error::from_read(e))
            }
            Err(_) => {
                tracing::warn!(
                    ?timeout,
                    reads = waiters.len(),
                    "reads refused: leadership not confirmed in time"
                );
                Err(StoreError::unavailable("read timed out"))
            }
        };
        for waiter in waiters {
            let _ = waiter.send(result.as_ref().map(|_| ()).map_err(error::duplicate));
        }
    }
}
