//! When a store node is ready (`GET /readyz`): it knows a leader and has caught up with it.
//!
//! A StatefulSet rollout restarts the next node once the previous one is ready. Were a node
//! ready as soon as it knows a leader (its first heartbeat after a restart), the rollout could
//! stop the next node while this one still replays the entries it missed: the cluster would
//! then commit nothing until it caught up, and a leader stopped then could hand over to
//! nobody up to date. So a follower is ready once it has applied the log to within
//! [`CAUGHT_UP_ENTRIES`] of the commit index its leader last announced, and the leader once it
//! has applied to within that many of its own commit index.

use crate::types::NodeId;

/// How far behind the commit index a node may have applied and still be ready. Under load a
/// healthy follower trails by the few batches in flight; after a restart it trails by all it
/// missed until replication catches it up.
pub const CAUGHT_UP_ENTRIES: u64 = 100;

/// What a node knows, for deciding readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    /// This node's id.
    pub id: NodeId,
    /// The leader it knows.
    pub leader: Option<NodeId>,
    /// The index it has applied.
    pub applied: Option<u64>,
    /// On the leader, its commit index.
    pub committed: Option<u64>,
    /// On a follower, the commit index its leader last announced.
    pub leader_commit: Option<u64>,
}

/// Why a node is not ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotReady {
    /// It knows no leader.
    #[error("no leader known")]
    NoLeader,
    /// It has heard no commit index from its leader yet.
    #[error("no commit index heard from leader {0} yet")]
    NotHeard(NodeId),
    /// It has applied too little of the committed log.
    #[error("applied up to {applied}, committed up to {committed}: catching up")]
    Behind {
        /// Its applied index.
        applied: u64,
        /// The commit index it is catching up with.
        committed: u64,
    },
}

/// Whether the node in `view` is ready; `Ok` names its leader.
pub fn decide(view: &View) -> Result<NodeId, NotReady> {
    let leader = view.leader.ok_or(NotReady::NoLeader)?;
    let committed = if leader == view.id {
        view.committed.unwrap_or(0)
    } else {
        view.leader_commit.ok_or(NotReady::NotHeard(leader))?
    };
    let applied = view.applied.unwrap_or(0);
    if applied.saturating_add(CAUGHT_UP_ENTRIES) < committed {
        return Err(NotReady::Behind { applied, committed });
    }
    Ok(leader)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follower(applied: u64, leader_commit: Option<u64>) -> View {
        View {
            id: 2,
            leader: Some(1),
            applied: Some(applied),
            committed: None,
            leader_commit,
        }
    }

    #[test]
    fn a_follower_is_ready_once_caught_up_with_its_leader() {
        assert_eq!(decide(&follower(5_000, Some(5_003))), Ok(1));
        assert_eq!(
            decide(&follower(100, Some(5_000))),
            Err(NotReady::Behind {
                applied: 100,
                committed: 5_000
            })
        );
        assert_eq!(
            decide(&follower(4_900, Some(5_000))),
            Ok(1),
            "within the margin"
        );
        assert_eq!(decide(&follower(0, None)), Err(NotReady::NotHeard(1)));
        let lost = View {
            leader: None,
            ..follower(5_000, Some(5_000))
        };
        assert_eq!(decide(&lost), Err(NotReady::NoLeader));
    }

    #[test]
    fn a_leader_is_ready_once_it_applied_what_it_committed() {
        let leader = View {
            id: 1,
            leader: Some(1),
            applied: Some(10),
            committed: Some(10),
            leader_commit: None,
        };
        assert_eq!(decide(&leader), Ok(1));
        let behind = View {
            applied: None,
            committed: Some(500),
            ..leader
        };
        assert!(matches!(decide(&behind), Err(NotReady::Behind { .. })));
    }
}
