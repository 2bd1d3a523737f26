//! The background task that removes expired grants.
//!
//! While this node leads, it proposes `Expire { limit }` every `interval`, and again at once
//! while a sweep removes a full `limit` (catching up after downtime without one huge command).
//! Expired grants are invisible to reads before they are swept; sweeping only reclaims space.

use crate::types::{Command, NodeId, Request, Response, StoreRaft};
use sigil_core::time::Timestamp;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running sweeper.
pub(crate) struct Sweeper {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Sweeper {
    /// Starts sweeping through `raft` whenever `node_id` is the leader.
    pub(crate) fn spawn(
        raft: StoreRaft,
        node_id: NodeId,
        interval: Duration,
        limit: u64,
        request_timeout: Duration,
    ) -> Sweeper {
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await; // the first tick is immediate; sweep after one interval
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = ticker.tick() => {}
                }
                if raft.metrics().borrow().current_leader != Some(node_id) {
                    continue;
                }
                while sweep_once(&raft, limit, request_timeout).await == Some(limit) {}
            }
        });
        Sweeper { stop, task }
    }

    /// Stops the task, waiting for a sweep in progress to finish.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }

    /// Stops the task without waiting (for `Drop`).
    pub(crate) fn abort(self) {
        self.task.abort();
    }
}

/// Proposes one `Expire`; returns how many grants it removed, or `None` if it failed.
async fn sweep_once(raft: &StoreRaft, limit: u64, request_timeout: Duration) -> Option<u64> {
    let request = Request {
        now: Timestamp::now(),
        command: Command::Expire { limit },
    };
    match tokio::time::timeout(request_timeout, raft.client_write(request)).await {
        Ok(Ok(written)) => match written.data {
            Response::Expired(removed) => {
                if removed > 0 {
                    tracing::debug!(removed, "swept expired grants");
                }
                Some(removed)
            }
            other => {
                tracing::error!(response = ?other, "unexpected response to expire");
                None
            }
        },
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "expiry sweep not applied");
            None
        }
        Err(_) => {
            tracing::warn!("expiry sweep timed out");
            None
        }
    }
}
