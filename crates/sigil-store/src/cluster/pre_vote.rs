//! The pre-vote (Raft thesis §9.6): a node asks before it campaigns, and campaigns only if a
//! majority would vote for it.
//!
//! openraft 0.9 has no pre-vote. Its follower campaigns whenever it has not heard from a leader
//! for an election timeout, each time with a higher term, even when it is the node that is cut
//! off. When the partition heals, that term reaches the healthy leader in an append-entries
//! reply, and the leader steps down: an election that nothing needed, and a pause in writes. The
//! same happens to a leader that was cut off, once it learns of its successor: if the
//! successor's first heartbeat is slow to arrive (its connection is still backing off from the
//! partition), the old leader's election timer fires and it campaigns.
//!
//! So elections are gated (`Config::enable_elect`, see [`super::election_gate`]): a node may
//! campaign only while a majority of the voters answer this pre-vote with yes. A node answers
//! yes when it has not heard from a leader within the shortest election timeout (it would not
//! be leading either) and the asking node's log is at least as up to date as its own; it changes
//! nothing when it answers.
//!
//! [`LeaderContact`] is when this node last accepted a message from a leader; the `Raft` gRPC
//! service records it.

use super::leader::leads_with_quorum;
use crate::types::{LogId, StoreRaft};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a node that wants to campaign sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreVoteRequest {
    /// The asking node's last log id.
    pub last_log: Option<LogId>,
}

/// The answer: whether the receiver would vote for the asking node now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreVoteResponse {
    /// Yes or no.
    pub granted: bool,
}

/// When this node last accepted a message from a leader (append-entries or a snapshot), and
/// the commit index the last append-entries announced (for readiness: see [`super::http`]).
#[derive(Debug, Default)]
pub struct LeaderContact {
    last: Mutex<Contact>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Contact {
    at: Option<Instant>,
    leader_commit: Option<u64>,
}

impl LeaderContact {
    /// Records a message from a leader, now.
    pub fn touch(&self) {
        self.lock().at = Some(Instant::now());
    }

    /// Records an append-entries from a leader, now, announcing `leader_commit`.
    pub fn touch_with_commit(&self, leader_commit: Option<u64>) {
        *self.lock() = Contact {
            at: Some(Instant::now()),
            leader_commit,
        };
    }

    /// Whether a leader was heard from within `window`.
    pub fn within(&self, window: Duration) -> bool {
        self.lock().at.is_some_and(|at| at.elapsed() < window)
    }

    /// The commit index the latest append-entries from a leader announced, if any came.
    pub fn leader_commit(&self) -> Option<u64> {
        self.lock().leader_commit
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Contact> {
        // Two plain values, valid whatever a panicking holder left in them.
        self.last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// This node's answer to `request`: yes unless it heard from a leader (or led) within
/// `window`, or its log is more up to date than the asking node's.
pub fn answer(
    raft: &StoreRaft,
    contact: &LeaderContact,
    request: &PreVoteRequest,
    window: Duration,
) -> PreVoteResponse {
    let heard_from_leader = contact.within(window) || leads_with_quorum(raft, window);
    let own_last_log = raft.data_metrics().borrow().last_log;
    PreVoteResponse {
        granted: !heard_from_leader && request.last_log >= own_last_log,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_is_recent_for_the_window_only() {
        let contact = LeaderContact::default();
        assert!(!contact.within(Duration::from_secs(60)), "never heard");
        contact.touch();
        assert!(contact.within(Duration::from_secs(60)));
        std::thread::sleep(Duration::from_millis(20));
        assert!(!contact.within(Duration::from_millis(10)));
    }
}
