//! The `Raft` gRPC service: decodes openraft's requests sent by [`super::network`] and hands
//! them to this node's Raft instance; the reply is the encoded `Result` of the call. It also
//! answers the store's own pre-vote ([`super::pre_vote`]) and a stopping leader's
//! `TimeoutNow` ([`super::handover`]), and records in [`LeaderContact`] when this node
//! accepted a leader's message and the commit index that leader announced.

use super::handover::{self, TimeoutNowRequest};
use super::pre_vote::{self, LeaderContact, PreVoteRequest};
use crate::types::{NodeId, StoreRaft};
use openraft::raft::{AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sigil_store_proto::RaftMessage;
use sigil_store_proto::raft_server::Raft;
use std::sync::Arc;
use std::time::Duration;
use tonic::{Request, Response, Status};

/// Serves Raft RPCs from peers.
pub struct RaftService {
    raft: StoreRaft,
    id: NodeId,
    contact: Arc<LeaderContact>,
    /// A leader heard from within this long is alive, for the pre-vote.
    leader_window: Duration,
}

impl RaftService {
    /// Serves `raft` (node `id`), recording leader messages in `contact`; a pre-vote is
    /// refused while a leader was heard from within `leader_window`, and a `TimeoutNow`
    /// unless its leader was.
    pub fn new(
        raft: StoreRaft,
        id: NodeId,
        contact: Arc<LeaderContact>,
        leader_window: Duration,
    ) -> Self {
        RaftService {
            raft,
            id,
            contact,
            leader_window,
        }
    }
}

fn decode<T: DeserializeOwned>(request: Request<RaftMessage>) -> Result<T, Status> {
    postcard::from_bytes(&request.into_inner().data)
        .map_err(|e| Status::invalid_argument(format!("malformed raft message: {e}")))
}

fn encode<T: Serialize>(reply: &T) -> Result<Response<RaftMessage>, Status> {
    postcard::to_allocvec(reply)
        .map(|data| Response::new(RaftMessage { data }))
        .map_err(|e| Status::internal(format!("encoding a raft reply: {e}")))
}

#[tonic::async_trait]
impl Raft for RaftService {
    async fn append_entries(
        &self,
        request: Request<RaftMessage>,
    ) -> Result<Response<RaftMessage>, Status> {
        let request: AppendEntriesRequest<_> = decode(request)?;
        let leader_commit = request.leader_commit.map(|log_id| log_id.index);
        let reply = self.raft.append_entries(request).await;
        // Anything but a higher vote means the sender is the leader this node follows (a
        // conflict only asks for earlier entries).
        if matches!(&reply, Ok(response) if !matches!(response, AppendEntriesResponse::HigherVote(_)))
        {
            self.contact.touch_with_commit(leader_commit);
        }
        encode(&reply)
    }

    async fn vote(&self, request: Request<RaftMessage>) -> Result<Response<RaftMessage>, Status> {
        let reply = self.raft.vote(decode(request)?).await;
        encode(&reply)
    }

    async fn install_snapshot(
        &self,
        request: Request<RaftMessage>,
    ) -> Result<Response<RaftMessage>, Status> {
        let request: InstallSnapshotRequest<_> = decode(request)?;
        let sender = request.vote;
        let reply = self.raft.install_snapshot(request).await;
        // Accepted unless this node holds a higher vote than the sender's.
        if matches!(&reply, Ok(response) if response.vote <= sender) {
            self.contact.touch();
        }
        encode(&reply)
    }

    async fn pre_vote(
        &self,
        request: Request<RaftMessage>,
    ) -> Result<Response<RaftMessage>, Status> {
        let request: PreVoteRequest = decode(request)?;
        let answer = pre_vote::answer(&self.raft, &self.contact, &request, self.leader_window);
        encode(&answer)
    }

    async fn timeout_now(
        &self,
        request: Request<RaftMessage>,
    ) -> Result<Response<RaftMessage>, Status> {
        let request: TimeoutNowRequest = decode(request)?;
        let answer = handover::answer_timeout_now(
            &self.raft,
            self.id,
            &self.contact,
            self.leader_window,
            &request,
        )
        .await;
        encode(&answer)
    }
}
