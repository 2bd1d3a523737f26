//! The `Raft` gRPC service: decodes openraft's requests sent by [`super::network`] and hands
//! them to this node's Raft instance; the reply is the encoded `Result` of the call.

use crate::types::StoreRaft;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sigil_store_proto::RaftMessage;
use sigil_store_proto::raft_server::Raft;
use tonic::{Request, Response, Status};

/// Serves Raft RPCs from peers.
pub struct RaftService {
    raft: StoreRaft,
}

impl RaftService {
    /// Serves `raft`.
    pub fn new(raft: StoreRaft) -> RaftService {
        RaftService { raft }
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
        let reply = self.raft.append_entries(decode(request)?).await;
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
        let reply = self.raft.install_snapshot(decode(request)?).await;
        encode(&reply)
    }
}
