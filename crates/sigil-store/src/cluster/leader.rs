//! The leader hint: how a node that cannot serve a request tells the caller where to go.
//!
//! Errors become gRPC statuses: [`StoreError::Unavailable`] → UNAVAILABLE, with the leader's
//! URL (its membership address) in the `sigil-leader` metadata when this node knows a leader
//! other than itself; [`StoreError::Internal`] → INTERNAL.

use crate::types::{NodeId, StoreRaft};
use sigil_core::store::StoreError;
use sigil_store_proto::LEADER_METADATA_KEY;
use tonic::Status;
use tonic::metadata::MetadataValue;

/// The URL of the leader this node knows, if it is another node.
pub fn leader_url(raft: &StoreRaft, own_id: NodeId) -> Option<String> {
    let metrics = raft.metrics().borrow().clone();
    let leader = metrics.current_leader.filter(|leader| *leader != own_id)?;
    metrics
        .membership_config
        .membership()
        .get_node(&leader)
        .map(|node| node.addr.clone())
}

/// UNAVAILABLE with the leader hint when known.
pub fn unavailable(raft: &StoreRaft, own_id: NodeId, message: impl Into<String>) -> Status {
    let mut status = Status::unavailable(message);
    let hint = leader_url(raft, own_id).and_then(|url| MetadataValue::try_from(url).ok());
    if let Some(value) = hint {
        status.metadata_mut().insert(LEADER_METADATA_KEY, value);
    }
    status
}

/// The gRPC status for a failed store operation.
pub fn to_status(raft: &StoreRaft, own_id: NodeId, error: StoreError) -> Status {
    match error {
        StoreError::Unavailable(detail) => unavailable(raft, own_id, detail),
        other => Status::internal(other.to_string()),
    }
}

/// Fails with UNAVAILABLE (and the hint) unless this node is the leader.
pub fn require_leader(raft: &StoreRaft, own_id: NodeId) -> Result<(), Status> {
    if raft.metrics().borrow().current_leader == Some(own_id) {
        Ok(())
    } else {
        Err(unavailable(raft, own_id, "this node is not the leader"))
    }
}
