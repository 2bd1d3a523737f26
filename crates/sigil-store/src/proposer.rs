//! The proposer: batches concurrent proposals into shared Raft log entries.
//!
//! Callers queue a [`Proposal`] with a reply channel. One task takes the first waiting
//! proposal, drains whatever else is queued (up to `max_batch`), stamps `now` once and calls
//! `client_write` with the whole batch as one [`Request`]; the entry's [`Response::Batch`] is
//! fanned back in order. Up to `max_in_flight` batches are replicated at once, so the queue
//! fills while one is being appended: concurrent proposals share one append and one fsync.

use crate::error;
use crate::types::{Proposal, Request, Response, StoreRaft};
use sigil_core::store::StoreError;
use sigil_core::time::Timestamp;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;

/// A proposal waiting for its batch, and where its response goes.
pub(crate) struct Pending {
    pub(crate) proposal: Proposal,
    pub(crate) reply: oneshot::Sender<Result<Response, StoreError>>,
}

/// Starts the proposer task; it ends when every sender is dropped.
pub(crate) fn spawn(
    raft: StoreRaft,
    max_batch: usize,
    max_in_flight: usize,
    timeout: Duration,
) -> (mpsc::Sender<Pending>, JoinHandle<()>) {
    let max_batch = max_batch.max(1);
    let (tx, rx) = mpsc::channel(max_batch.saturating_mul(4));
    let task = tokio::spawn(run(raft, rx, max_batch, max_in_flight.max(1), timeout));
    (tx, task)
}

async fn run(
    raft: StoreRaft,
    mut queue: mpsc::Receiver<Pending>,
    max_batch: usize,
    max_in_flight: usize,
    timeout: Duration,
) {
    let in_flight = Arc::new(Semaphore::new(max_in_flight));
    while let Some(first) = queue.recv().await {
        // Wait for a slot first: while the batches in flight replicate, the queue fills.
        let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match queue.try_recv() {
                Ok(pending) => batch.push(pending),
                Err(_) => break,
            }
        }
        let raft = raft.clone();
        tokio::spawn(async move {
            write_batch(&raft, batch, timeout).await;
            drop(permit);
        });
    }
}

/// Proposes one batch and answers each of its callers.
async fn write_batch(raft: &StoreRaft, batch: Vec<Pending>, timeout: Duration) {
    let (proposals, replies): (Vec<_>, Vec<_>) =
        batch.into_iter().map(|p| (p.proposal, p.reply)).unzip();
    let count = proposals.len();
    let request = Request {
        now: Timestamp::now(),
        proposals,
    };
    let failure = match tokio::time::timeout(timeout, raft.client_write(request)).await {
        Ok(Ok(written)) => match written.data {
            Response::Batch(responses) if responses.len() == count => {
                for (reply, response) in replies.into_iter().zip(responses) {
                    let _ = reply.send(Ok(response));
                }
                return;
            }
            other => StoreError::internal(format!(
                "unexpected state machine response to a batch: {other:?}"
            )),
        },
        Ok(Err(e)) => error::from_write(e),
        Err(_) => StoreError::unavailable("write timed out"),
    };
    for reply in replies {
        let _ = reply.send(Err(error::duplicate(&failure)));
    }
}
