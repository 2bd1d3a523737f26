//! [`GrpcNetwork`]: openraft's network over the `Raft` gRPC service of `raft.proto`.
//!
//! Each RPC carries the postcard encoding of openraft's request; the reply is the postcard
//! encoding of `Result<response, RaftError>`. Channels are lazy (connected on first use,
//! re-connected by tonic after a failure) and shared per address. A peer's address comes from
//! the local peer map given at start if it names the peer, else from the membership's
//! `BasicNode::addr`: the local map wins, so an operator (or a test) can route one pair of
//! nodes through a proxy.
//!
//! A channel pings a connection that has carried nothing for a second and closes it if the
//! ping goes unanswered for another: a partition that drops packets silently leaves TCP
//! connections open with their data unacknowledged, and TCP backs off its retransmissions to
//! seconds, so a connection that lived through a partition would stay mute for seconds after
//! the heal, then deliver a burst of requests that openraft had long given up on (and reset).
//! Closed at once, it is replaced by a fresh connection as soon as the peer answers again.
//!
//! [`GrpcNetwork::pre_vote`] asks a peer the store's pre-vote ([`super::pre_vote`]), and
//! [`GrpcNetwork::timeout_now`] asks it to take over ([`super::handover`]), over the same
//! channels.

use super::handover::{TimeoutNowRequest, TimeoutNowResponse};
use super::pre_vote::{PreVoteRequest, PreVoteResponse};
use crate::types::{Node, NodeId, TypeConfig};
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sigil_core::error::ErrorChain;
use sigil_store_proto::RaftMessage;
use sigil_store_proto::raft_client::RaftClient;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tonic::transport::{Channel, Endpoint};

/// How long a connection attempt to a peer may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// A connection that has received nothing for this long is pinged.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(1);
/// A ping unanswered for this long closes the connection.
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(1);

/// Creates [`GrpcPeer`] connections; clones share the channel cache.
#[derive(Clone, Default)]
pub struct GrpcNetwork {
    peers: Arc<BTreeMap<NodeId, String>>,
    channels: Arc<Mutex<HashMap<String, Channel>>>,
}

impl GrpcNetwork {
    /// A network that reaches the nodes in `peers` at the given URLs, and any other node at
    /// its membership address.
    pub fn new(peers: BTreeMap<NodeId, String>) -> GrpcNetwork {
        GrpcNetwork {
            peers: Arc::new(peers),
            channels: Arc::default(),
        }
    }

    /// Where `target` is reached: the local map first, then the membership's address.
    pub fn address_of(&self, target: NodeId, node: &Node) -> String {
        self.peers
            .get(&target)
            .cloned()
            .unwrap_or_else(|| node.addr.clone())
    }

    fn channel(&self, addr: &str) -> Result<Channel, ChannelError> {
        let mut channels = self.channels.lock().map_err(|_| ChannelError::Poisoned)?;
        if let Some(channel) = channels.get(addr) {
            return Ok(channel.clone());
        }
        let channel = Endpoint::from_shared(addr.to_owned())
            .map_err(|source| ChannelError::BadAddress {
                addr: addr.to_owned(),
                source,
            })?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
            .keep_alive_timeout(KEEPALIVE_TIMEOUT)
            .keep_alive_while_idle(true)
            .connect_lazy();
        channels.insert(addr.to_owned(), channel.clone());
        Ok(channel)
    }
}

/// Why no channel to a peer could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelError {
    /// A thread panicked while holding the channel cache.
    #[error("channel cache poisoned")]
    Poisoned,
    /// The peer's address is not a usable URL.
    #[error("bad peer address {addr:?}")]
    BadAddress {
        /// The address.
        addr: String,
        /// Why it is not usable.
        #[source]
        source: tonic::transport::Error,
    },
}

impl GrpcNetwork {
    /// Asks `target` the pre-vote, waiting at most `timeout`. A peer that did not answer says
    /// no; one that does not implement the pre-vote (an older version) says yes, as it would
    /// not stop an election either.
    pub async fn pre_vote(
        &self,
        target: NodeId,
        node: &Node,
        request: &PreVoteRequest,
        timeout: Duration,
    ) -> bool {
        let addr = self.address_of(target, node);
        let answer = async {
            let mut client = self
                .channel(&addr)
                .map(RaftClient::new)
                .map_err(|error| ErrorChain(&error).to_string())?;
            let data = postcard::to_allocvec(request).map_err(|e| e.to_string())?;
            let mut message = tonic::Request::new(RaftMessage { data });
            message.set_timeout(timeout);
            match client.pre_vote(message).await {
                Ok(reply) => postcard::from_bytes::<PreVoteResponse>(&reply.into_inner().data)
                    .map(|response| response.granted)
                    .map_err(|e| format!("decoding the answer: {e}")),
                Err(status) if status.code() == tonic::Code::Unimplemented => Ok(true),
                Err(status) => Err(status.to_string()),
            }
        };
        match tokio::time::timeout(timeout, answer).await {
            Ok(Ok(granted)) => granted,
            Ok(Err(reason)) => {
                tracing::debug!(peer = target, %addr, %reason, "no pre-vote answer");
                false
            }
            Err(_) => {
                tracing::debug!(peer = target, %addr, "no pre-vote answer in time");
                false
            }
        }
    }
}

/// Why one of the store's own RPCs to a peer failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// No channel to the peer.
    #[error(transparent)]
    Address(ChannelError),
    /// The request could not be encoded, or the answer decoded.
    #[error("encoding or decoding a message")]
    Codec(#[source] postcard::Error),
    /// The call failed (transport, timeout, or the peer's status).
    #[error("the call failed")]
    Call(#[source] tonic::Status),
    /// No answer within the time given.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl GrpcNetwork {
    /// Asks `target` to campaign at once because this node, its leader, is stopping
    /// ([`super::handover`]); waits at most `timeout` for its answer.
    pub async fn timeout_now(
        &self,
        target: NodeId,
        node: &Node,
        request: &TimeoutNowRequest,
        timeout: Duration,
    ) -> Result<TimeoutNowResponse, RpcError> {
        let addr = self.address_of(target, node);
        let call = async {
            let mut client = self
                .channel(&addr)
                .map(RaftClient::new)
                .map_err(RpcError::Address)?;
            let data = postcard::to_allocvec(request).map_err(RpcError::Codec)?;
            let mut message = tonic::Request::new(RaftMessage { data });
            message.set_timeout(timeout);
            let reply = client.timeout_now(message).await.map_err(RpcError::Call)?;
            postcard::from_bytes(&reply.into_inner().data).map_err(RpcError::Codec)
        };
        tokio::time::timeout(timeout, call)
            .await
            .map_err(|_| RpcError::Timeout(timeout))?
    }
}

impl RaftNetworkFactory<TypeConfig> for GrpcNetwork {
    type Network = GrpcPeer;

    async fn new_client(&mut self, target: NodeId, node: &Node) -> GrpcPeer {
        let addr = self.address_of(target, node);
        let client = self.channel(&addr).map(RaftClient::new);
        GrpcPeer {
            target,
            addr,
            client,
        }
    }
}

/// A connection to one peer's `Raft` service.
pub struct GrpcPeer {
    target: NodeId,
    addr: String,
    client: Result<RaftClient<Channel>, ChannelError>,
}

/// Which of the three RPCs to call.
#[derive(Clone, Copy)]
enum Rpc {
    AppendEntries,
    Vote,
    InstallSnapshot,
}

fn unreachable<E: std::error::Error>(reason: String) -> RPCError<NodeId, Node, E> {
    RPCError::Unreachable(Unreachable::new(&std::io::Error::other(reason)))
}

fn network_error<E: std::error::Error>(reason: String) -> RPCError<NodeId, Node, E> {
    RPCError::Network(NetworkError::new(&std::io::Error::other(reason)))
}

impl GrpcPeer {
    /// Sends one encoded request and decodes the peer's `Result<Resp, RaftError<E>>`.
    async fn call<Req, Resp, E>(
        &mut self,
        rpc: Rpc,
        request: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<NodeId, Node, RaftError<NodeId, E>>>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
        E: std::error::Error + DeserializeOwned,
    {
        let target = self.target;
        let client = match &mut self.client {
            Ok(client) => client,
            Err(error) => return Err(RPCError::Unreachable(Unreachable::new(error))),
        };
        let data = postcard::to_allocvec(request)
            .map_err(|e| network_error(format!("encoding a raft request: {e}")))?;
        let mut message = tonic::Request::new(RaftMessage { data });
        message.set_timeout(option.hard_ttl());
        let reply = match rpc {
            Rpc::AppendEntries => client.append_entries(message).await,
            Rpc::Vote => client.vote(message).await,
            Rpc::InstallSnapshot => client.install_snapshot(message).await,
        };
        let reply = reply.map_err(|status| {
            let reason = format!("raft rpc to node {target} at {}: {status}", self.addr);
            match status.code() {
                tonic::Code::Unavailable | tonic::Code::Unimplemented => unreachable(reason),
                _ => network_error(reason),
            }
        })?;
        let decoded: Result<Resp, RaftError<NodeId, E>> =
            postcard::from_bytes(&reply.into_inner().data)
                .map_err(|e| network_error(format!("decoding node {target}'s reply: {e}")))?;
        decoded.map_err(|e| RPCError::RemoteError(RemoteError::new(target, e)))
    }
}

impl RaftNetwork<TypeConfig> for GrpcPeer {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId>>> {
        self.call(Rpc::AppendEntries, &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, Node, RaftError<NodeId, InstallSnapshotError>>,
    > {
        self.call(Rpc::InstallSnapshot, &rpc, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId>>> {
        self.call(Rpc::Vote, &rpc, &option).await
    }
}
