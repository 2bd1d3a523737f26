//! The `ClusterAdmin` gRPC service of `admin.proto`: status, membership changes, snapshots.
//!
//! Adding a member first adds it as a learner and waits until it has caught up with the log
//! (`add_learner` with `blocking = true`), then makes it a voter; openraft moves through a
//! joint configuration, so the cluster keeps a quorum throughout. Removing a member changes
//! the voters without it (and drops it as a learner). Both must be asked of the leader.

use super::leader;
use super::metrics::positions;
use crate::types::{Node, NodeId, StoreRaft};
use openraft::{ChangeMembers, ServerState};
use sigil_store_proto::cluster_admin_server::ClusterAdmin;
use sigil_store_proto::{self as wire};
use std::collections::{BTreeMap, BTreeSet};
use tonic::{Request, Response, Status};

/// Serves the operator API of one node.
pub struct AdminService {
    raft: StoreRaft,
    node_id: NodeId,
}

impl AdminService {
    /// Serves `raft` as node `node_id`.
    pub fn new(raft: StoreRaft, node_id: NodeId) -> AdminService {
        AdminService { raft, node_id }
    }
}

/// The members of the effective membership, with addresses.
pub fn members(raft: &StoreRaft) -> Vec<wire::Member> {
    let metrics = raft.metrics().borrow().clone();
    let membership = metrics.membership_config.membership();
    let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
    membership
        .nodes()
        .map(|(id, node)| wire::Member {
            id: *id,
            addr: node.addr.clone(),
            voter: voters.contains(id),
        })
        .collect()
}

/// A name for a Raft role.
pub fn state_name(state: ServerState) -> &'static str {
    match state {
        ServerState::Leader => "Leader",
        ServerState::Follower => "Follower",
        ServerState::Candidate => "Candidate",
        ServerState::Learner => "Learner",
        ServerState::Shutdown => "Shutdown",
    }
}

/// This node's status, as answered by `ClusterAdmin.Status`.
pub async fn status(raft: &StoreRaft) -> Result<wire::StatusResponse, Status> {
    let initialized = raft
        .is_initialized()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let metrics = raft.metrics().borrow().clone();
    let at = positions(raft);
    Ok(wire::StatusResponse {
        node_id: metrics.id,
        state: state_name(metrics.state).to_owned(),
        term: metrics.current_term,
        leader_id: metrics.current_leader,
        initialized,
        members: members(raft),
        committed_index: at.committed,
        applied_index: at.applied,
        last_log_index: at.last_log,
        snapshot_index: at.snapshot,
        replication: at
            .replication
            .into_iter()
            .map(|(node_id, matched_index, lag)| wire::Replication {
                node_id,
                matched_index,
                lag,
            })
            .collect(),
    })
}

impl AdminService {
    fn failed(&self, error: impl std::fmt::Display) -> Status {
        // A change that lost leadership midway can be retried at the new leader.
        leader::unavailable(&self.raft, self.node_id, error.to_string())
    }

    fn membership_reply(&self, log_index: u64) -> Response<wire::MembershipResponse> {
        Response::new(wire::MembershipResponse {
            members: members(&self.raft),
            log_index: Some(log_index),
        })
    }
}

#[tonic::async_trait]
impl ClusterAdmin for AdminService {
    async fn status(
        &self,
        _request: Request<wire::StatusRequest>,
    ) -> Result<Response<wire::StatusResponse>, Status> {
        status(&self.raft).await.map(Response::new)
    }

    async fn add_member(
        &self,
        request: Request<wire::AddMemberRequest>,
    ) -> Result<Response<wire::MembershipResponse>, Status> {
        let request = request.into_inner();
        if request.addr.is_empty() {
            return Err(Status::invalid_argument("addr is required"));
        }
        leader::require_leader(&self.raft, self.node_id)?;
        tracing::info!(id = request.id, addr = %request.addr, "adding a learner");
        self.raft
            .add_learner(request.id, Node::new(request.addr), true)
            .await
            .map_err(|e| self.failed(e))?;
        tracing::info!(id = request.id, "learner caught up; making it a voter");
        let written = self
            .raft
            .change_membership(
                ChangeMembers::AddVoterIds(BTreeSet::from([request.id])),
                false,
            )
            .await
            .map_err(|e| self.failed(e))?;
        Ok(self.membership_reply(written.log_id.index))
    }

    async fn remove_member(
        &self,
        request: Request<wire::RemoveMemberRequest>,
    ) -> Result<Response<wire::MembershipResponse>, Status> {
        let id = request.into_inner().id;
        leader::require_leader(&self.raft, self.node_id)?;
        let is_member = members(&self.raft).iter().any(|member| member.id == id);
        if !is_member {
            return Err(Status::not_found(format!("node {id} is not a member")));
        }
        tracing::info!(id, "removing a member");
        // `retain = false` drops it entirely rather than keeping it as a learner.
        let written = self
            .raft
            .change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([id])), false)
            .await
            .map_err(|e| self.failed(e))?;
        let still_learner = members(&self.raft)
            .iter()
            .any(|member| member.id == id && !member.voter);
        let written = if still_learner {
            self.raft
                .change_membership(ChangeMembers::RemoveNodes(BTreeSet::from([id])), false)
                .await
                .map_err(|e| self.failed(e))?
        } else {
            written
        };
        Ok(self.membership_reply(written.log_id.index))
    }

    async fn trigger_snapshot(
        &self,
        _request: Request<wire::TriggerSnapshotRequest>,
    ) -> Result<Response<wire::TriggerSnapshotResponse>, Status> {
        self.raft
            .trigger()
            .snapshot()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Response::new(wire::TriggerSnapshotResponse {}))
    }
}

/// The initial membership of a new cluster: every listed peer as a voter.
pub fn initial_members(peers: &BTreeMap<NodeId, String>) -> BTreeMap<NodeId, Node> {
    peers
        .iter()
        .map(|(id, addr)| (*id, Node::new(addr.clone())))
        .collect()
}
