//! [`Replica`]: what a store node serves from, embedded or clustered.
//!
//! It wraps a started Raft node and its state machine's [`GrantReader`]:
//! - writes go through the proposer (`proposer`), which batches concurrent proposals into one
//!   log entry; a write on a node that does not lead fails at once as
//!   [`StoreError::Unavailable`] (the caller may add a leader hint from [`Replica::raft`]);
//! - reads wait at the read gate (`read_gate`), which confirms leadership once for all the
//!   reads waiting at that moment, then read the state machine with this node's clock.

use crate::proposer::{self, Pending};
use crate::read_gate::{self, Waiter};
use crate::reader::GrantReader;
use crate::types::{Command, Proposal, RequestId, Response, StoreRaft};
use async_trait::async_trait;
use sigil_core::handle::GrantKey;
use sigil_core::store::{
    ConsumeOutcome, Grant, GrantStore, PutOutcome, RevokeTarget, RotateOutcome, Rotation,
    StoreError, Throttle, ThrottleOutcome,
};
use sigil_core::time::Timestamp;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Tuning for a [`Replica`]. Start from [`ReplicaOptions::default`].
#[derive(Debug, Clone)]
pub struct ReplicaOptions {
    /// How long a write or read may wait for Raft before failing as unavailable.
    pub request_timeout: Duration,
    /// At most this many proposals per log entry.
    pub max_batch: usize,
    /// At most this many batches being replicated at once.
    pub max_in_flight: usize,
}

impl Default for ReplicaOptions {
    fn default() -> Self {
        ReplicaOptions {
            request_timeout: Duration::from_secs(10),
            max_batch: 1024,
            max_in_flight: 2,
        }
    }
}

/// Serves grant store requests from one Raft node. Cloning is cheap; clones share the
/// proposer and the read gate.
#[derive(Clone)]
pub struct Replica {
    inner: Arc<Inner>,
}

struct Inner {
    raft: StoreRaft,
    reader: GrantReader,
    proposals: mpsc::Sender<Pending>,
    reads: mpsc::Sender<Waiter>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    request_timeout: Duration,
    read_checks: Arc<AtomicU64>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(tasks) = self.tasks.get_mut() {
            for task in tasks.drain(..) {
                task.abort();
            }
        }
    }
}

fn stopped() -> StoreError {
    StoreError::unavailable("the store is shutting down")
}

fn unexpected(response: Response) -> StoreError {
    StoreError::internal(format!("unexpected state machine response: {response:?}"))
}

fn read_failed(e: std::io::Error) -> StoreError {
    StoreError::internal_from("reading grants", e)
}

impl Replica {
    /// Wraps a started Raft node and its state machine's trees; spawns the proposer and the
    /// read gate. Must be called within a Tokio runtime.
    pub fn new(raft: StoreRaft, reader: GrantReader, options: ReplicaOptions) -> Replica {
        let (proposals, proposer_task) = proposer::spawn(
            raft.clone(),
            options.max_batch,
            options.max_in_flight,
            options.request_timeout,
        );
        let read_checks = Arc::new(AtomicU64::new(0));
        let (reads, gate_task) = read_gate::spawn(
            raft.clone(),
            options.request_timeout,
            Arc::clone(&read_checks),
        );
        Replica {
            inner: Arc::new(Inner {
                raft,
                reader,
                proposals,
                reads,
                tasks: Mutex::new(vec![proposer_task, gate_task]),
                request_timeout: options.request_timeout,
                read_checks,
            }),
        }
    }

    /// Proposes `command` (batched with concurrent proposals) and returns what applying it
    /// gave. With an `id`, a retry of an already applied proposal returns the first response
    /// and changes nothing (within [`crate::types::DEDUPE_WINDOW_SECS`]).
    pub async fn submit(
        &self,
        id: Option<RequestId>,
        command: Command,
    ) -> Result<Response, StoreError> {
        let (reply, response) = oneshot::channel();
        let pending = Pending {
            proposal: Proposal { id, command },
            reply,
        };
        // The proposer bounds the Raft call itself; this bounds the wait in its queue too.
        let wait = self.inner.request_timeout.saturating_mul(2);
        let outcome = tokio::time::timeout(wait, async {
            self.inner
                .proposals
                .send(pending)
                .await
                .map_err(|_| stopped())?;
            response.await.map_err(|_| stopped())?
        })
        .await;
        match outcome {
            Ok(result) => result,
            Err(_) => Err(StoreError::unavailable("write timed out")),
        }
    }

    /// Waits until this node may serve a linearizable read.
    async fn read_barrier(&self) -> Result<(), StoreError> {
        let (waiter, ready) = oneshot::channel();
        let wait = self.inner.request_timeout.saturating_mul(2);
        let outcome = tokio::time::timeout(wait, async {
            self.inner.reads.send(waiter).await.map_err(|_| stopped())?;
            ready.await.map_err(|_| stopped())?
        })
        .await;
        match outcome {
            Ok(result) => result,
            Err(_) => Err(StoreError::unavailable("read timed out")),
        }
    }

    /// The live grant under `key`, consumed or not; linearizable.
    pub async fn get(&self, key: &GrantKey) -> Result<Option<Grant>, StoreError> {
        self.read_barrier().await?;
        self.inner
            .reader
            .get(key, Timestamp::now())
            .map_err(read_failed)
    }

    /// The live grants of `subject`, in key order; linearizable.
    pub async fn list_by_subject(&self, subject: &str) -> Result<Vec<Grant>, StoreError> {
        self.read_barrier().await?;
        self.inner
            .reader
            .list_by_subject(subject, Timestamp::now())
            .map_err(read_failed)
    }

    /// The Raft node beneath (for leader hints, metrics and membership changes).
    pub fn raft(&self) -> &StoreRaft {
        &self.inner.raft
    }

    /// How many leadership checks the read gate has made (each serves every read waiting
    /// when it started).
    pub fn read_checks(&self) -> u64 {
        self.inner.read_checks.load(Ordering::Relaxed)
    }

    /// The state machine's reader (not linearizable on its own).
    pub fn reader(&self) -> &GrantReader {
        &self.inner.reader
    }

    /// Stops the proposer and the read gate (not Raft). Waiting callers and later calls fail
    /// as unavailable.
    pub async fn shutdown(&self) {
        let tasks = match self.inner.tasks.lock() {
            Ok(mut tasks) => std::mem::take(&mut *tasks),
            Err(_) => Vec::new(),
        };
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
    }
}

#[async_trait]
impl GrantStore for Replica {
    async fn put(&self, grant: Grant) -> Result<PutOutcome, StoreError> {
        match self.submit(None, Command::Put { grant }).await? {
            Response::Put(outcome) => Ok(outcome),
            other => Err(unexpected(other)),
        }
    }

    async fn get(&self, key: &GrantKey) -> Result<Option<Grant>, StoreError> {
        Replica::get(self, key).await
    }

    async fn consume(&self, key: &GrantKey) -> Result<ConsumeOutcome, StoreError> {
        match self.submit(None, Command::Consume { key: *key }).await? {
            Response::Consume(outcome) => Ok(outcome),
            other => Err(unexpected(other)),
        }
    }

    async fn revoke(&self, target: RevokeTarget) -> Result<u64, StoreError> {
        match self.submit(None, Command::Revoke { target }).await? {
            Response::Revoked(removed) => Ok(removed),
            other => Err(unexpected(other)),
        }
    }

    async fn rotate(&self, rotation: Rotation) -> Result<RotateOutcome, StoreError> {
        match self.submit(None, Command::Rotate(rotation)).await? {
            Response::Rotate(outcome) => Ok(outcome),
            other => Err(unexpected(other)),
        }
    }

    async fn list_by_subject(&self, subject: &str) -> Result<Vec<Grant>, StoreError> {
        Replica::list_by_subject(self, subject).await
    }

    async fn throttle(&self, command: Throttle) -> Result<ThrottleOutcome, StoreError> {
        match self.submit(None, Command::Throttle(command)).await? {
            Response::Throttle(outcome) => Ok(outcome),
            other => Err(unexpected(other)),
        }
    }
}
