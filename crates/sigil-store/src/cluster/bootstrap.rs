//! Creating a new cluster from a static peer list.
//!
//! Exactly one node may call `raft.initialize`: the node with the lowest id in the peer list,
//! and only when its own storage is empty and no peer reports an initialized cluster (each
//! peer's `ClusterAdmin.Status` is asked, with a few short retries; an unreachable peer counts
//! as not initialized). It initializes with every listed peer as a voter. The other nodes wait
//! to be contacted by the elected leader. A node that joins an existing cluster later
//! (`ClusterAdmin.AddMember`) is started with bootstrapping disabled.

use super::admin_service::initial_members;
use crate::types::{NodeId, StoreRaft};
use sigil_store_proto::StatusRequest;
use sigil_store_proto::cluster_admin_client::ClusterAdminClient;
use std::collections::BTreeMap;
use std::time::Duration;
use tonic::transport::Endpoint;

/// How many times each peer is asked whether it is initialized.
const ATTEMPTS: u32 = 3;
/// The pause between attempts, and the timeout of each.
const PAUSE: Duration = Duration::from_millis(300);

/// Whether node `own_id` is the one that may create the cluster listed in `peers`.
pub fn is_bootstrapper(own_id: NodeId, peers: &BTreeMap<NodeId, String>) -> bool {
    peers.keys().next() == Some(&own_id)
}

/// Asks `addr` whether it is part of an initialized cluster; `None` if it did not answer.
async fn peer_initialized(addr: &str) -> Option<bool> {
    let endpoint = Endpoint::from_shared(addr.to_owned())
        .ok()?
        .connect_timeout(PAUSE)
        .timeout(PAUSE);
    let channel = endpoint.connect().await.ok()?;
    let status = ClusterAdminClient::new(channel)
        .status(StatusRequest {})
        .await
        .ok()?;
    Some(status.into_inner().initialized)
}

/// Whether any peer other than `own_id` reports an initialized cluster.
async fn any_peer_initialized(own_id: NodeId, peers: &BTreeMap<NodeId, String>) -> bool {
    for (id, addr) in peers {
        if *id == own_id {
            continue;
        }
        for attempt in 0..ATTEMPTS {
            match peer_initialized(addr).await {
                Some(true) => {
                    tracing::info!(peer = id, "peer reports an initialized cluster");
                    return true;
                }
                Some(false) => break,
                None if attempt + 1 < ATTEMPTS => tokio::time::sleep(PAUSE).await,
                None => tracing::info!(peer = id, "peer did not answer; assuming it is new"),
            }
        }
    }
    false
}

/// Initializes a new cluster of `peers` if this node is the one that should; see the module
/// documentation. Errors are logged: a node that did not bootstrap still joins when contacted.
pub async fn maybe_initialize(raft: &StoreRaft, own_id: NodeId, peers: &BTreeMap<NodeId, String>) {
    if !is_bootstrapper(own_id, peers) {
        return;
    }
    match raft.is_initialized().await {
        Ok(false) => {}
        Ok(true) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read raft state; not bootstrapping");
            return;
        }
    }
    if any_peer_initialized(own_id, peers).await {
        return;
    }
    // A peer may have contacted this node while it was asking around.
    if raft.is_initialized().await.unwrap_or(true) {
        return;
    }
    let members = initial_members(peers);
    tracing::info!(members = ?members.keys().collect::<Vec<_>>(), "initializing a new cluster");
    if let Err(e) = raft.initialize(members).await {
        tracing::warn!(error = %e, "initializing the cluster failed");
    }
}
