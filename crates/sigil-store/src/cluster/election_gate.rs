//! The election gate: openraft may start an election only while a majority would vote for
//! this node (see [`super::pre_vote`] for why).
//!
//! The node starts with elections disabled (`Config::enable_elect = false`). A task re-decides
//! every heartbeat interval: elections stay disabled while this node leads, is not a voter, or
//! heard from a leader within the shortest election timeout; otherwise it asks every other voter
//! the pre-vote and enables elections if, with its own yes, a majority of every configuration
//! (both halves of a joint one) agrees. openraft's own timer still decides *when* to campaign:
//! at least its leader lease plus an election timeout after the last leader message, by which
//! time the gate, which needs only the shortest election timeout of silence, has long opened
//! if the leader is really gone. A leader failure is therefore not noticed later than before.
//!
//! Creating a cluster is not gated: `Raft::initialize` starts its election directly.

use super::network::GrpcNetwork;
use super::pre_vote::{LeaderContact, PreVoteRequest};
use crate::types::{NodeId, StoreRaft};
use openraft::ServerState;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// The timing of the gate.
#[derive(Debug, Clone, Copy)]
pub struct GateTimings {
    /// How often the decision is renewed (the heartbeat interval).
    pub every: Duration,
    /// A leader heard from within this long is alive (the shortest election timeout).
    pub leader_window: Duration,
}

/// Starts the gate task for node `id`; abort the handle to stop it.
pub fn spawn(
    raft: StoreRaft,
    network: GrpcNetwork,
    contact: Arc<LeaderContact>,
    id: NodeId,
    timings: GateTimings,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut open = false;
        loop {
            let may = may_campaign(&raft, &network, &contact, id, timings).await;
            if may != open {
                open = may;
                raft.runtime_config().elect(open);
                if open {
                    tracing::info!(
                        id,
                        "no leader heard and a majority would vote: elections enabled"
                    );
                } else {
                    tracing::debug!(id, "elections disabled");
                }
            }
            tokio::time::sleep(timings.every).await;
        }
    })
}

/// Whether node `id` may campaign now.
async fn may_campaign(
    raft: &StoreRaft,
    network: &GrpcNetwork,
    contact: &LeaderContact,
    id: NodeId,
    timings: GateTimings,
) -> bool {
    let metrics = raft.metrics().borrow().clone();
    let membership = metrics.membership_config.membership().clone();
    let voter = membership.voter_ids().any(|voter| voter == id);
    if metrics.state == ServerState::Leader || !voter || contact.within(timings.leader_window) {
        return false;
    }
    let request = PreVoteRequest {
        last_log: raft.data_metrics().borrow().last_log,
    };
    // Asked at once; a peer that cannot answer within the leader window says no this round
    // (the gate has several rounds before openraft's timer could fire).
    let timeout = timings.leader_window;
    let mut asks = tokio::task::JoinSet::new();
    for peer in membership.voter_ids().filter(|peer| *peer != id) {
        let Some(node) = membership.get_node(&peer).cloned() else {
            continue;
        };
        let network = network.clone();
        asks.spawn(async move {
            let granted = network.pre_vote(peer, &node, &request, timeout).await;
            (peer, granted)
        });
    }
    let mut granted = BTreeSet::from([id]);
    while let Some(answer) = asks.join_next().await {
        if let Ok((peer, true)) = answer {
            granted.insert(peer);
        }
    }
    tracing::debug!(id, ?granted, "pre-vote answers");
    majority_of_every(membership.get_joint_config(), &granted)
}

/// Whether `granted` holds a majority of each configuration.
fn majority_of_every(configs: &[BTreeSet<NodeId>], granted: &BTreeSet<NodeId>) -> bool {
    configs
        .iter()
        .all(|config| config.intersection(granted).count() * 2 > config.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_majority_is_needed_in_every_configuration() {
        let three = [BTreeSet::from([1, 2, 3])];
        let joint = [BTreeSet::from([1, 2, 3]), BTreeSet::from([3, 4, 5])];
        assert!(majority_of_every(&three, &BTreeSet::from([1, 2])));
        assert!(!majority_of_every(&three, &BTreeSet::from([1])));
        assert!(!majority_of_every(&joint, &BTreeSet::from([1, 2])));
        assert!(majority_of_every(&joint, &BTreeSet::from([1, 3, 4])));
        assert!(majority_of_every(
            &[BTreeSet::from([1])],
            &BTreeSet::from([1])
        ));
    }
}
