//! The background task that removes expired grants.
//!
//! While this node leads, it proposes `Expire { limit }` through the [`Replica`] every
//! `interval`, and again at once while a sweep removes at least `limit` grants and request ids
//! (catching up after downtime without one huge command).
//! Expired grants are invisible to reads before they are swept; sweeping only reclaims space.

use crate::replica::Replica;
use crate::types::{Command, NodeId, Response};
use sigil_core::error::ErrorChain;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running sweeper.
pub(crate) struct Sweeper {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Sweeper {
    /// Starts sweeping through `replica` whenever `node_id` is the leader.
    pub(crate) fn spawn(
        replica: Replica,
        node_id: NodeId,
        interval: Duration,
        limit: u64,
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
                if replica.raft().metrics().borrow().current_leader != Some(node_id) {
                    continue;
                }
                while sweep_once(&replica, limit)
                    .await
                    .is_some_and(|n| n >= limit)
                {}
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

/// Proposes one `Expire`; returns how many grants and ids it removed, or `None` if it failed.
async fn sweep_once(replica: &Replica, limit: u64) -> Option<u64> {
    match replica.submit(None, Command::Expire { limit }).await {
        Ok(Response::Expired(removed)) => {
            if removed > 0 {
                tracing::debug!(removed, "swept expired grants");
            }
            Some(removed)
        }
        Ok(other) => {
            tracing::error!(response = ?other, "unexpected response to expire");
            None
        }
        Err(e) => {
            tracing::debug!(error = %ErrorChain(&e), "expiry sweep not applied");
            None
        }
    }
}
