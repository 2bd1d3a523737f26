//! [`StoreClient`]: sigil-core's `GrantStore` over gRPC, with leader following and retries.

use crate::ClientOptions;
use crate::call::{Attempt, RequestId, new_request_id, with_retries};
use crate::nodes::{EndpointError, Nodes};
use async_trait::async_trait;
use sigil_core::handle::GrantKey;
use sigil_core::store::{
    ConsumeOutcome, Grant, GrantStore, PutOutcome, RevokeTarget, RotateOutcome, Rotation,
    StoreError, Throttle, ThrottleOutcome,
};
use std::future::Future;
use std::time::Duration;
use tonic::transport::Channel;
use tonic::{Request, Status};

use sigil_store_proto as proto;
type Grpc = proto::grant_store_client::GrantStoreClient<Channel>;

/// A client of a `sigil store` cluster; share it behind an `Arc`.
#[derive(Debug)]
pub struct StoreClient {
    nodes: Nodes,
    options: ClientOptions,
}

/// Why a client could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// No endpoint was given.
    #[error("no grant store endpoints given")]
    NoEndpoints,
    /// An endpoint is not a usable URL.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
}

impl StoreClient {
    /// A client of the cluster whose nodes are `endpoints` (`http://host:port`; a missing
    /// scheme means `http`). Returns at once: connections open on first use, so the cluster
    /// need not be up yet.
    pub fn connect<I, S>(endpoints: I, options: ClientOptions) -> Result<Self, ConnectError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let urls: Vec<String> = endpoints.into_iter().map(Into::into).collect();
        if urls.is_empty() {
            return Err(ConnectError::NoEndpoints);
        }
        Ok(Self {
            nodes: Nodes::new(&urls, &options)?,
            options,
        })
    }

    /// The configured endpoints, normalized (`http://host:port`).
    pub fn endpoints(&self) -> Vec<String> {
        self.nodes.configured_urls()
    }

    /// One logical call: `send` is given a client for the node tried, the call's request id
    /// (the same on every attempt) and the attempt's timeout.
    async fn call<T, F, Fut>(&self, operation: &'static str, send: F) -> Result<T, StoreError>
    where
        F: Fn(Grpc, Vec<u8>, Duration) -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        let request_id: RequestId = new_request_id();
        with_retries(
            &self.nodes,
            &self.options,
            proto::LEADER_METADATA_KEY,
            operation,
            |attempt: Attempt| {
                tracing::trace!(operation, node = %attempt.url, "grant store attempt");
                send(
                    Grpc::new(attempt.channel),
                    request_id.to_vec(),
                    attempt.timeout,
                )
            },
        )
        .await
    }
}

/// A request carrying the attempt's deadline, so the node gives up when the client does.
fn request<M>(message: M, timeout: Duration) -> Request<M> {
    let mut request = Request::new(message);
    request.set_timeout(timeout);
    request
}

/// A response the client cannot read is a store failure, not a reason to retry.
fn decode<T, E>(operation: &str, result: Result<T, E>) -> Result<T, StoreError>
where
    E: std::error::Error + Send + Sync + 'static,
{
    result.map_err(|error| {
        StoreError::internal_from(&format!("{operation}: unreadable answer"), error)
    })
}

#[async_trait]
impl GrantStore for StoreClient {
    async fn put(&self, grant: Grant) -> Result<PutOutcome, StoreError> {
        let grant = decode("put", proto::Grant::try_from(grant))?;
        let response = self
            .call("put", |mut grpc, request_id, timeout| {
                let message = proto::PutRequest {
                    request_id,
                    grant: Some(grant.clone()),
                };
                async move { grpc.put(request(message, timeout)).await }
            })
            .await?;
        decode("put", PutOutcome::try_from(response.into_inner()))
    }

    async fn get(&self, key: &GrantKey) -> Result<Option<Grant>, StoreError> {
        let key = key.as_bytes().to_vec();
        let response = self
            .call("get", |mut grpc, request_id, timeout| {
                let message = proto::GetRequest {
                    request_id,
                    key: key.clone(),
                };
                async move { grpc.get(request(message, timeout)).await }
            })
            .await?;
        decode(
            "get",
            response.into_inner().grant.map(Grant::try_from).transpose(),
        )
    }

    async fn consume(&self, key: &GrantKey) -> Result<ConsumeOutcome, StoreError> {
        let key = key.as_bytes().to_vec();
        let response = self
            .call("consume", |mut grpc, request_id, timeout| {
                let message = proto::ConsumeRequest {
                    request_id,
                    key: key.clone(),
                };
                async move { grpc.consume(request(message, timeout)).await }
            })
            .await?;
        decode("consume", ConsumeOutcome::try_from(response.into_inner()))
    }

    async fn revoke(&self, target: RevokeTarget) -> Result<u64, StoreError> {
        let target = decode("revoke", proto::revoke_request::Target::try_from(target))?;
        let response = self
            .call("revoke", |mut grpc, request_id, timeout| {
                let message = proto::RevokeRequest {
                    request_id,
                    target: Some(target.clone()),
                };
                async move { grpc.revoke(request(message, timeout)).await }
            })
            .await?;
        Ok(response.into_inner().removed)
    }

    async fn rotate(&self, rotation: Rotation) -> Result<RotateOutcome, StoreError> {
        let message = decode("rotate", proto::convert::rotate_request([0; 16], rotation))?;
        let response = self
            .call("rotate", |mut grpc, request_id, timeout| {
                let message = proto::RotateRequest {
                    request_id,
                    ..message.clone()
                };
                async move { grpc.rotate(request(message, timeout)).await }
            })
            .await?;
        decode("rotate", RotateOutcome::try_from(response.into_inner()))
    }

    async fn list_by_subject(&self, subject: &str) -> Result<Vec<Grant>, StoreError> {
        let subject = subject.to_owned();
        let response = self
            .call("list_by_subject", |mut grpc, request_id, timeout| {
                let message = proto::ListBySubjectRequest {
                    request_id,
                    subject: subject.clone(),
                };
                async move { grpc.list_by_subject(request(message, timeout)).await }
            })
            .await?;
        decode(
            "list_by_subject",
            proto::convert::grants_from_wire(response.into_inner().grants),
        )
    }

    async fn throttle(&self, command: Throttle) -> Result<ThrottleOutcome, StoreError> {
        let message = proto::convert::throttle_request([0; 16], command);
        let response = self
            .call("throttle", |mut grpc, request_id, timeout| {
                let message = proto::ThrottleRequest {
                    request_id,
                    ..message.clone()
                };
                async move { grpc.throttle(request(message, timeout)).await }
            })
            .await?;
        decode("throttle", ThrottleOutcome::try_from(response.into_inner()))
    }
}
