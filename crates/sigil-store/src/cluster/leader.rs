//! The leader hint: how a node that cannot serve a request tells the caller where to go.
//!
//! Errors become gRPC statuses: [`StoreError::Unavailable`] → UNAVAILABLE, with the leader's
//! URL (its membership address) in the `sigil-leader` metadata when this node knows a leader
//! other than itself; [`StoreError::Internal`] → INTERNAL.
//!
//! A leader cut off from its followers keeps leading in openraft 0.9: it never steps down on
//! its own. [`require_quorum_contact`] makes such a node refuse at once (UNAVAILABLE, no hint),
//! once no quorum has acknowledged it for a leader lease, instead of holding each caller until
//! the caller's deadline with a write that cannot commit or a read it cannot confirm.

use crate::types::{NodeId, StoreRaft};
use openraft::ServerState;
use sigil_core::error::ErrorChain;
use sigil_core::store::StoreError;
use sigil_store_proto::LEADER_METADATA_KEY;
use std::error::Error as _;
use std::time::Duration;
use tonic::Status;
use tonic::metadata::MetadataValue;

/// Whether this node leads, and whether a quorum acknowledged it within `window` (a leader
/// not yet acknowledged at all has just been elected, and counts as acknowledged).
fn leadership(raft: &StoreRaft, window: Duration) -> Option<bool> {
    let metrics = raft.metrics().borrow().clone();
    if metrics.state != ServerState::Leader {
        return None;
    }
    let window = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
    Some(
        metrics
            .millis_since_quorum_ack
            .is_none_or(|millis| millis <= window),
    )
}

/// Whether this node leads and a quorum acknowledged it within `window`.
pub fn leads_with_quorum(raft: &StoreRaft, window: Duration) -> bool {
    leadership(raft, window) == Some(true)
}

/// Fails with UNAVAILABLE, without a hint, if this node leads but no quorum acknowledged it
/// within `lease`: its followers may have elected another leader by now.
pub fn require_quorum_contact(raft: &StoreRaft, lease: Duration) -> Result<(), Status> {
    match leadership(raft, lease) {
        Some(false) => Err(Status::unavailable(format!(
            "this node leads but no majority has answered it for over {} ms",
            lease.as_millis()
        ))),
        _ => Ok(()),
    }
}

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
    unavailable_with_hint(message, leader_url(raft, own_id).as_deref())
}

/// UNAVAILABLE naming `leader` (a URL) in the hint, if given.
pub fn unavailable_with_hint(message: impl Into<String>, leader: Option<&str>) -> Status {
    let mut status = Status::unavailable(message);
    if let Some(value) = leader.and_then(|url| MetadataValue::try_from(url).ok()) {
        status.metadata_mut().insert(LEADER_METADATA_KEY, value);
    }
    status
}

/// The gRPC status for a failed store operation; its message names the causes too.
pub fn to_status(raft: &StoreRaft, own_id: NodeId, error: StoreError) -> Status {
    match &error {
        StoreError::Unavailable { detail, .. } => {
            let message = match error.source() {
                Some(cause) => format!("{detail}: {}", ErrorChain(cause)),
                None => detail.clone(),
            };
            unavailable(raft, own_id, message)
        }
        _ => Status::internal(ErrorChain(&error).to_string()),
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
