//! The `GrantStore` gRPC service of `store.proto`, served from this node's [`Replica`].
//!
//! Each request's 16-byte `request_id` becomes the proposal's [`RequestId`], so a retried
//! write is applied once. A malformed request is INVALID_ARGUMENT; a node that does not lead
//! answers UNAVAILABLE with the leader hint, and a leader that has lost its majority answers
//! UNAVAILABLE at once (see [`super::leader`]). Writes pass the node's [`WriteGate`]: while a
//! stopping leader hands over ([`super::handover`]) they are refused at once, naming the
//! successor.

use super::handover::{HandingOver, WriteGate};
use super::leader;
use super::metrics::NodeMetrics;
use crate::replica::Replica;
use crate::types::{Command, NodeId, RequestId, Response as StoreResponse};
use sigil_core::store::{Rotation, StoreError, Throttle};
use sigil_store_proto::convert::{grants_to_wire, key_from_wire, required_grant, target_from_wire};
use sigil_store_proto::grant_store_server::GrantStore;
use sigil_store_proto::{self as wire, WireError, request_id_from_wire};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::{Request, Response, Status};

/// Serves client requests from a [`Replica`].
pub struct GrantService {
    replica: Replica,
    node_id: NodeId,
    metrics: Arc<NodeMetrics>,
    lease: Duration,
    writes: Arc<WriteGate>,
}

impl GrantService {
    /// Serves `replica` as node `node_id`, recording write latencies in `metrics`. As leader,
    /// it refuses requests once no majority has answered it for `lease`; writes are refused
    /// once `writes` is closed.
    pub fn new(
        replica: Replica,
        node_id: NodeId,
        metrics: Arc<NodeMetrics>,
        lease: Duration,
        writes: Arc<WriteGate>,
    ) -> GrantService {
        GrantService {
            replica,
            node_id,
            metrics,
            lease,
            writes,
        }
    }

    fn status(&self, error: StoreError) -> Status {
        leader::to_status(self.replica.raft(), self.node_id, error)
    }

    /// Refuses at once if this node leads without a majority.
    fn require_quorum(&self) -> Result<(), Status> {
        leader::require_quorum_contact(self.replica.raft(), self.lease)
    }

    /// Proposes `command` under the request's id and returns the state machine's response.
    async fn write(&self, request_id: &[u8], command: Command) -> Result<StoreResponse, Status> {
        let id = RequestId(request_id_from_wire(request_id)?);
        let _permit = self.writes.enter().map_err(handing_over)?;
        self.require_quorum()?;
        let started = Instant::now();
        let response = self
            .replica
            .submit(Some(id), command)
            .await
            .map_err(|e| self.status(e))?;
        self.metrics.observe_proposal(started.elapsed());
        Ok(response)
    }
}

/// UNAVAILABLE naming the node taking over, so that clients go there at once.
fn handing_over(refused: HandingOver) -> Status {
    leader::unavailable_with_hint(refused.to_string(), refused.successor.as_deref())
}

fn unexpected(response: StoreResponse) -> Status {
    Status::internal(format!("unexpected state machine response: {response:?}"))
}

fn encoding(error: WireError) -> Status {
    Status::internal(error.to_string())
}

#[tonic::async_trait]
impl GrantStore for GrantService {
    async fn put(
        &self,
        request: Request<wire::PutRequest>,
    ) -> Result<Response<wire::PutResponse>, Status> {
        let request = request.into_inner();
        let grant = required_grant(request.grant, "grant")?;
        match self
            .write(&request.request_id, Command::Put { grant })
            .await?
        {
            StoreResponse::Put(outcome) => Ok(Response::new(outcome.into())),
            other => Err(unexpected(other)),
        }
    }

    async fn get(
        &self,
        request: Request<wire::GetRequest>,
    ) -> Result<Response<wire::GetResponse>, Status> {
        let request = request.into_inner();
        request_id_from_wire(&request.request_id)?;
        let key = key_from_wire(&request.key)?;
        self.require_quorum()?;
        let grant = self.replica.get(&key).await.map_err(|e| self.status(e))?;
        let grant = grant
            .map(wire::Grant::try_from)
            .transpose()
            .map_err(encoding)?;
        Ok(Response::new(wire::GetResponse { grant }))
    }

    async fn consume(
        &self,
        request: Request<wire::ConsumeRequest>,
    ) -> Result<Response<wire::ConsumeResponse>, Status> {
        let request = request.into_inner();
        let key = key_from_wire(&request.key)?;
        match self
            .write(&request.request_id, Command::Consume { key })
            .await?
        {
            StoreResponse::Consume(outcome) => {
                Ok(Response::new(outcome.try_into().map_err(encoding)?))
            }
            other => Err(unexpected(other)),
        }
    }

    async fn revoke(
        &self,
        request: Request<wire::RevokeRequest>,
    ) -> Result<Response<wire::RevokeResponse>, Status> {
        let request = request.into_inner();
        let target = target_from_wire(request.target)?;
        match self
            .write(&request.request_id, Command::Revoke { target })
            .await?
        {
            StoreResponse::Revoked(removed) => Ok(Response::new(wire::RevokeResponse { removed })),
            other => Err(unexpected(other)),
        }
    }

    async fn rotate(
        &self,
        request: Request<wire::RotateRequest>,
    ) -> Result<Response<wire::RotateResponse>, Status> {
        let request = request.into_inner();
        let request_id = request.request_id.clone();
        let rotation = Rotation::try_from(request)?;
        match self.write(&request_id, Command::Rotate(rotation)).await? {
            StoreResponse::Rotate(outcome) => {
                Ok(Response::new(outcome.try_into().map_err(encoding)?))
            }
            other => Err(unexpected(other)),
        }
    }

    async fn list_by_subject(
        &self,
        request: Request<wire::ListBySubjectRequest>,
    ) -> Result<Response<wire::ListBySubjectResponse>, Status> {
        let request = request.into_inner();
        request_id_from_wire(&request.request_id)?;
        self.require_quorum()?;
        let grants = self
            .replica
            .list_by_subject(&request.subject)
            .await
            .map_err(|e| self.status(e))?;
        let grants = grants_to_wire(grants).map_err(encoding)?;
        Ok(Response::new(wire::ListBySubjectResponse { grants }))
    }

    async fn throttle(
        &self,
        request: Request<wire::ThrottleRequest>,
    ) -> Result<Response<wire::ThrottleResponse>, Status> {
        let request = request.into_inner();
        let request_id = request.request_id.clone();
        let command = Throttle::try_from(request)?;
        match self.write(&request_id, Command::Throttle(command)).await? {
            StoreResponse::Throttle(outcome) => Ok(Response::new(outcome.into())),
            other => Err(unexpected(other)),
        }
    }
}
