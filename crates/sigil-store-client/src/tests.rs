//! The client against tiny in-process gRPC servers that play store nodes: a follower that
//! names the leader, a leader that loses an acknowledgement, a node that is down, a node that
//! rejects the request.

use crate::{ClientOptions, StoreClient};
use proto::grant_store_server::{GrantStore as Service, GrantStoreServer};
use sigil_core::handle::GrantKey;
use sigil_core::store::{GrantStore, RevokeTarget, StoreError};
use sigil_store_proto as proto;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status};

/// How a fake node answers.
#[derive(Clone, Copy)]
enum Role {
    /// UNAVAILABLE, naming the leader if it has one.
    Follower,
    /// Answers, after failing the first `lost_acks` calls with UNAVAILABLE (as if the answer
    /// was lost after the command was applied).
    Leader { lost_acks: usize },
    /// INVALID_ARGUMENT.
    Rejecting,
    /// CANCELLED, as tonic answers when the attempt's `grpc-timeout` expires on the node (a
    /// leader cut off from its followers never commits).
    TimedOut,
}

struct Fake {
    role: Role,
    leader_hint: Option<String>,
    /// Request ids received, in order.
    seen: Mutex<Vec<Vec<u8>>>,
}

impl Fake {
    fn answer<T>(&self, request_id: &[u8], ok: T) -> Result<Response<T>, Status> {
        let calls = {
            let mut seen = self.seen.lock().unwrap();
            seen.push(request_id.to_vec());
            seen.len()
        };
        match self.role {
            Role::Follower => {
                let mut status = Status::unavailable("not the leader");
                if let Some(hint) = &self.leader_hint {
                    status.metadata_mut().insert(
                        proto::LEADER_METADATA_KEY,
                        MetadataValue::try_from(hint.as_str()).unwrap(),
                    );
                }
                Err(status)
            }
            Role::Leader { lost_acks } if calls <= lost_acks => {
                Err(Status::unavailable("answer lost"))
            }
            Role::Leader { .. } => Ok(Response::new(ok)),
            Role::Rejecting => Err(Status::invalid_argument("key must be 32 bytes")),
            Role::TimedOut => Err(Status::cancelled("Timeout expired")),
        }
    }

    fn seen(&self) -> Vec<Vec<u8>> {
        self.seen.lock().unwrap().clone()
    }
}

#[tonic::async_trait]
impl Service for Fake {
    async fn put(
        &self,
        request: Request<proto::PutRequest>,
    ) -> Result<Response<proto::PutResponse>, Status> {
        let _ = request;
        Err(Status::unimplemented("put"))
    }

    async fn get(
        &self,
        request: Request<proto::GetRequest>,
    ) -> Result<Response<proto::GetResponse>, Status> {
        self.answer(
            &request.get_ref().request_id,
            proto::GetResponse { grant: None },
        )
    }

    async fn consume(
        &self,
        request: Request<proto::ConsumeRequest>,
    ) -> Result<Response<proto::ConsumeResponse>, Status> {
        let _ = request;
        Err(Status::unimplemented("consume"))
    }

    async fn revoke(
        &self,
        request: Request<proto::RevokeRequest>,
    ) -> Result<Response<proto::RevokeResponse>, Status> {
        self.answer(
            &request.get_ref().request_id,
            proto::RevokeResponse { removed: 3 },
        )
    }

    async fn rotate(
        &self,
        request: Request<proto::RotateRequest>,
    ) -> Result<Response<proto::RotateResponse>, Status> {
        let _ = request;
        Err(Status::unimplemented("rotate"))
    }

    async fn list_by_subject(
        &self,
        request: Request<proto::ListBySubjectRequest>,
    ) -> Result<Response<proto::ListBySubjectResponse>, Status> {
        self.answer(
            &request.get_ref().request_id,
            proto::ListBySubjectResponse { grants: Vec::new() },
        )
    }

    async fn throttle(
        &self,
        request: Request<proto::ThrottleRequest>,
    ) -> Result<Response<proto::ThrottleResponse>, Status> {
        let _ = request;
        Err(Status::unimplemented("throttle"))
    }
}

/// Starts a fake node on a free loopback port; returns it and its URL.
async fn node(role: Role, leader_hint: Option<String>) -> (Arc<Fake>, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let fake = Arc::new(Fake {
        role,
        leader_hint,
        seen: Mutex::new(Vec::new()),
    });
    let service = GrantStoreServer::from_arc(fake.clone());
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
    });
    (fake, url)
}

/// A loopback URL where nothing listens.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

fn client(endpoints: &[&str], request_timeout: Duration) -> StoreClient {
    StoreClient::connect(
        endpoints.iter().copied(),
        ClientOptions::default()
            .with_request_timeout(request_timeout)
            .with_attempt_timeout(Duration::from_millis(500)),
    )
    .unwrap()
}

#[tokio::test]
async fn follows_the_hint_to_an_unlisted_leader_and_retries_with_the_same_request_id() {
    let (leader, leader_url) = node(Role::Leader { lost_acks: 1 }, None).await;
    let (follower, follower_url) = node(Role::Follower, Some(leader_url.clone())).await;
    // Only the follower is configured: the leader is learned from its hint.
    let client = client(&[&follower_url], Duration::from_secs(5));

    let removed = client
        .revoke(RevokeTarget::Subject("alice".to_owned()))
        .await
        .unwrap();
    assert_eq!(removed, 3);

    // follower -> (hint) leader, answer lost -> next node: the follower -> (hint) leader, ok.
    let at_follower = follower.seen();
    let at_leader = leader.seen();
    assert_eq!(at_follower.len(), 2);
    assert_eq!(
        at_leader.len(),
        2,
        "the lost answer was retried at the leader"
    );
    let first_id = at_follower[0].clone();
    assert_eq!(first_id.len(), 16, "a 16-byte request id");
    assert!(
        at_follower
            .iter()
            .chain(&at_leader)
            .all(|id| *id == first_id),
        "every attempt of one call carries the same request id"
    );

    // The next call goes straight to the leader, with a new request id.
    client.get(&GrantKey::derived("probe", &[])).await.unwrap();
    assert_eq!(follower.seen().len(), 2);
    let at_leader = leader.seen();
    assert_eq!(at_leader.len(), 3);
    assert_ne!(at_leader[2], first_id);
}

#[tokio::test]
async fn a_node_that_is_down_is_skipped() {
    let (leader, leader_url) = node(Role::Leader { lost_acks: 0 }, None).await;
    let dead = dead_url();
    let client = client(&[&dead, &leader_url], Duration::from_secs(5));
    assert_eq!(
        client.get(&GrantKey::derived("probe", &[])).await.unwrap(),
        None
    );
    assert_eq!(leader.seen().len(), 1);
}

#[tokio::test]
async fn no_leader_within_the_deadline_gives_a_clear_unavailable_error() {
    let (_follower, follower_url) = node(Role::Follower, None).await;
    let dead = dead_url();
    let client = client(&[&follower_url, &dead], Duration::from_millis(400));
    let error = client
        .get(&GrantKey::derived("probe", &[]))
        .await
        .unwrap_err();
    match error {
        StoreError::Unavailable {
            detail: message, ..
        } => {
            assert!(
                message.contains("no leader answered get within 400ms"),
                "{message}"
            );
            assert!(message.contains(&follower_url), "{message}");
            assert!(message.contains(&dead), "{message}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_node_that_timed_out_the_attempt_is_left_for_another_with_the_same_request_id() {
    let (stuck, stuck_url) = node(Role::TimedOut, None).await;
    let (leader, leader_url) = node(Role::Leader { lost_acks: 0 }, None).await;
    let client = client(&[&stuck_url, &leader_url], Duration::from_secs(5));

    let removed = client
        .revoke(RevokeTarget::Subject("alice".to_owned()))
        .await
        .unwrap();
    assert_eq!(removed, 3);
    assert_eq!(stuck.seen().len(), 1);
    assert_eq!(
        leader.seen(),
        stuck.seen(),
        "one request id for both attempts"
    );

    // The node that timed out is passed over by the next calls.
    client.get(&GrantKey::derived("probe", &[])).await.unwrap();
    assert_eq!(stuck.seen().len(), 1);
}

#[tokio::test]
async fn a_rejected_request_fails_at_once_without_retrying() {
    let (rejecting, url) = node(Role::Rejecting, None).await;
    let (other, other_url) = node(Role::Leader { lost_acks: 0 }, None).await;
    let client = client(&[&url, &other_url], Duration::from_secs(5));
    let error = client
        .revoke(RevokeTarget::Client("app".to_owned()))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Internal { .. }), "{error:?}");
    assert_eq!(rejecting.seen().len(), 1);
    assert!(other.seen().is_empty());
}

#[tokio::test]
async fn creating_a_client_needs_no_running_node() {
    let client = StoreClient::connect([dead_url()], ClientOptions::default());
    assert!(client.is_ok());
    assert!(StoreClient::connect(Vec::<String>::new(), ClientOptions::default()).is_err());
}

#[tokio::test]
async fn a_node_that_refused_connections_is_followed_once_named_leader_again() {
    // A store node being restarted: its port refuses connections while the other two still
    // name it leader; then it is back, and leads.
    let restarting = dead_url();
    let (_b, b_url) = node(Role::Follower, Some(restarting.clone())).await;
    let (_c, c_url) = node(Role::Follower, Some(restarting.clone())).await;
    let client = client(&[&restarting, &b_url, &c_url], Duration::from_millis(300));
    let error = client
        .get(&GrantKey::derived("probe", &[]))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Unavailable { .. }), "{error:?}");

    // Back on the same port: the next call follows the followers' hint there at once, rather
    // than passing the node over because it refused a moment ago.
    let listener = tokio::net::TcpListener::bind(restarting.trim_start_matches("http://"))
        .await
        .unwrap();
    let back = Arc::new(Fake {
        role: Role::Leader { lost_acks: 0 },
        leader_hint: None,
        seen: Mutex::new(Vec::new()),
    });
    let service = GrantStoreServer::from_arc(back.clone());
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
    });
    assert_eq!(
        client.get(&GrantKey::derived("probe", &[])).await.unwrap(),
        None
    );
    assert_eq!(back.seen().len(), 1);
}

#[tokio::test]
async fn a_hint_to_an_address_that_refuses_does_not_trap_the_client() {
    // The followers name the leader by an address where nothing listens for this client (an
    // advertised address that means something else from here); the leader is configured
    // under the address the client was given.
    let nowhere = dead_url();
    let (_a, a_url) = node(Role::Follower, Some(nowhere.clone())).await;
    let (_b, b_url) = node(Role::Follower, Some(nowhere.clone())).await;
    let (leader, leader_url) = node(Role::Leader { lost_acks: 0 }, None).await;
    let client = client(&[&a_url, &b_url, &leader_url], Duration::from_secs(2));
    assert_eq!(
        client.get(&GrantKey::derived("probe", &[])).await.unwrap(),
        None
    );
    // The next call starts at the leader found.
    client.get(&GrantKey::derived("probe", &[])).await.unwrap();
    assert_eq!(leader.seen().len(), 2);
}
