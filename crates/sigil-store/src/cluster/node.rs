//! [`StoreNode`]: one running `sigil store` cluster node.
//!
//! [`StoreNode::start`] binds the port, opens the storage, starts Raft over [`GrpcNetwork`],
//! waits until Raft has published the state it loaded (so that nothing served reports
//! openraft's placeholder of term 0 and an empty log), serves the `GrantStore`, `Raft` and
//! `ClusterAdmin` gRPC services and the HTTP endpoints (`/metrics`, `/healthz`, `/readyz`) on
//! that one port, runs the expiry sweeper (it proposes only while this node leads) and the
//! election gate ([`super::election_gate`]), and, if allowed, bootstraps a new cluster (see
//! [`super::bootstrap`]). [`StoreNode::stop`] hands leadership over if this node leads
//! ([`super::handover`]), then stops all of it in order ([`StoreNode::shutdown`]).

use super::admin_service::AdminService;
use super::bootstrap;
use super::election_gate::{self, GateTimings};
use super::grant_service::GrantService;
use super::handover::{self, HandoverError, HandoverTimings, LeadingSince, WriteGate};
use super::http;
use super::metrics::NodeMetrics;
use super::network::GrpcNetwork;
use super::pre_vote::LeaderContact;
use super::raft_service::RaftService;
use crate::node::{StorageHandle, open_node};
use crate::replica::{Replica, ReplicaOptions};
use crate::sweeper::Sweeper;
use crate::types::{NodeId, StoreRaft};
use openraft::{Config, SnapshotPolicy};
use sigil_core::store::StoreError;
use sigil_store_proto::cluster_admin_server::ClusterAdminServer;
use sigil_store_proto::grant_store_server::GrantStoreServer;
use sigil_store_proto::raft_server::RaftServer;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::Routes;
use tonic::transport::Server;

/// The largest Raft message a node accepts (a batch of log entries or a snapshot chunk).
const MAX_RAFT_MESSAGE: usize = 256 * 1024 * 1024;
/// How long shutdown waits for open connections to finish.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
/// How long Raft may take to publish the state it loaded from storage.
const LOAD_TIMEOUT: Duration = Duration::from_secs(30);
/// How many streams a peer may reset before this node accepted them, per connection, before
/// the connection is closed. openraft cancels every Raft RPC that outlives its timeout (a
/// heartbeat interval), so resets are ordinary traffic here: after a connection stalls, they
/// arrive by the dozen at once, and hyper's default of 20 (a guard against the HTTP/2 "rapid
/// reset" attack from untrusted clients) would close a connection that just recovered. Store
/// nodes serve only token pods and each other, on a private network.
const MAX_PENDING_RESETS: usize = 1024;

/// Raft's timers for a cluster node.
///
/// The defaults (heartbeat 100 ms, election timeout drawn from 300–600 ms) suit nodes on one
/// network: a follower starts an election after 3–6 missed heartbeats, so a leader failure is
/// noticed in under a second while a single delayed heartbeat does not cause an election.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaftTimings {
    /// How often the leader sends heartbeats, in milliseconds.
    pub heartbeat_ms: u64,
    /// The shortest election timeout, in milliseconds.
    pub election_min_ms: u64,
    /// The longest election timeout, in milliseconds.
    pub election_max_ms: u64,
}

impl Default for RaftTimings {
    fn default() -> Self {
        RaftTimings {
            heartbeat_ms: 100,
            election_min_ms: 300,
            election_max_ms: 600,
        }
    }
}

/// How to start a [`StoreNode`]. Start from [`NodeOptions::new`].
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// This node's id.
    pub id: NodeId,
    /// The address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// The URL other nodes and clients reach this node at. Defaults to this node's entry in
    /// `peers`, else `http://` and the bound address.
    pub advertise: Option<String>,
    /// Where the log and state machine are kept.
    pub data_dir: PathBuf,
    /// The cluster's nodes, by id. Used to reach them (before the membership's addresses) and,
    /// when bootstrapping, as the initial voters.
    pub peers: BTreeMap<NodeId, String>,
    /// Whether this node may create a new cluster of `peers` (see [`super::bootstrap`]).
    /// Disable it for a node that will be added to an existing cluster.
    pub bootstrap: bool,
    /// Raft's timers.
    pub timings: RaftTimings,
    /// Build a snapshot after this many log entries since the last one.
    pub snapshot_every: u64,
    /// Log entries kept behind a snapshot; the rest of the log is purged.
    pub logs_kept_after_snapshot: u64,
    /// How often the leader sweeps expired grants.
    pub sweep_interval: Duration,
    /// At most this many grants per sweep command.
    pub sweep_limit: u64,
    /// How long a request may wait for Raft before failing as unavailable.
    pub request_timeout: Duration,
}

impl NodeOptions {
    /// Options for node `id` listening on `listen` with its storage in `data_dir`; no peers,
    /// bootstrapping allowed, default timings and store tuning.
    pub fn new(id: NodeId, listen: SocketAddr, data_dir: impl Into<PathBuf>) -> NodeOptions {
        NodeOptions {
            id,
            listen,
            advertise: None,
            data_dir: data_dir.into(),
            peers: BTreeMap::new(),
            bootstrap: true,
            timings: RaftTimings::default(),
            snapshot_every: 5_000,
            logs_kept_after_snapshot: 100,
            sweep_interval: Duration::from_secs(5),
            sweep_limit: 1_000,
            request_timeout: Duration::from_secs(5),
        }
    }

    fn raft_config(&self) -> Result<Config, StoreError> {
        Config {
            cluster_name: "sigil-store".into(),
            heartbeat_interval: self.timings.heartbeat_ms,
            election_timeout_min: self.timings.election_min_ms,
            election_timeout_max: self.timings.election_max_ms,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(self.snapshot_every),
            max_in_snapshot_log_to_keep: self.logs_kept_after_snapshot,
            // The election gate enables elections when a majority would vote.
            enable_elect: false,
            ..Config::default()
        }
        .validate()
        .map_err(|e| StoreError::internal_from("raft configuration", e))
    }
}

/// A running cluster node.
pub struct StoreNode {
    id: NodeId,
    network: GrpcNetwork,
    writes: Arc<WriteGate>,
    handover: HandoverTimings,
    leading: Arc<LeadingSince>,
    leadership_watch: Mutex<Option<JoinHandle<()>>>,
    local_addr: SocketAddr,
    url: String,
    replica: Replica,
    storage: StorageHandle,
    sweeper: Mutex<Option<Sweeper>>,
    election_gate: Mutex<Option<JoinHandle<()>>>,
    server: Mutex<Option<Serving>>,
    bootstrap: Mutex<Option<JoinHandle<()>>>,
    request_timeout: Duration,
}

/// The serving task and its stop signal.
struct Serving {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
}

fn internal(what: &str, e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::internal_from(what, e)
}

/// `http://` and the bound address, with an unspecified IP replaced by loopback.
fn default_url(bound: SocketAddr) -> String {
    let ip = if bound.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        bound.ip()
    };
    format!("http://{}", SocketAddr::new(ip, bound.port()))
}

/// The accepted connections with Nagle's algorithm off. Small gRPC answers (a Raft
/// acknowledgement, a grant) would otherwise wait for the peer's delayed ACK, some 40 ms per
/// round trip. (tonic sets this only on listeners it binds itself.)
fn without_nagle(
    listener: tokio::net::TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    TcpListenerStream::new(listener).map(|accepted| {
        if let Ok(stream) = &accepted {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY on an accepted connection");
            }
        }
        accepted
    })
}

impl StoreNode {
    /// Starts the node; returns once it is serving (it may not have a leader yet: see
    /// `/readyz`). Fails if the port cannot be bound or the storage cannot be opened.
    pub async fn start(options: NodeOptions) -> Result<StoreNode, StoreError> {
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|e| internal(&format!("binding {}", options.listen), e))?;
        Self::start_on(listener, options).await
    }

    /// Like [`StoreNode::start`], on a listener the caller has bound already (`listen` is then
    /// ignored): lets a caller learn every node's port before starting any of them.
    pub async fn start_on(
        listener: tokio::net::TcpListener,
        options: NodeOptions,
    ) -> Result<StoreNode, StoreError> {
        let config = Arc::new(options.raft_config()?);
        let local_addr = listener
            .local_addr()
            .map_err(|e| internal("reading the bound address", e))?;
        let url = options
            .advertise
            .clone()
            .or_else(|| options.peers.get(&options.id).cloned())
            .unwrap_or_else(|| default_url(local_addr));

        let network = GrpcNetwork::new(options.peers.clone());
        let node = open_node(&options.data_dir, options.id, config, network.clone()).await?;
        let raft = node.raft.clone();
        loaded(&raft).await?;
        let replica = Replica::new(
            node.raft,
            node.reader,
            ReplicaOptions {
                request_timeout: options.request_timeout,
                ..ReplicaOptions::default()
            },
        );
        let metrics = Arc::new(NodeMetrics::new(&raft).map_err(|e| internal("metrics", e))?);
        let contact = Arc::new(LeaderContact::default());
        let leader_window = Duration::from_millis(options.timings.election_min_ms);
        let lease = Duration::from_millis(options.timings.election_max_ms);
        let writes = Arc::new(WriteGate::default());

        let grpc = Routes::new(GrantStoreServer::new(GrantService::new(
            replica.clone(),
            options.id,
            Arc::clone(&metrics),
            lease,
            Arc::clone(&writes),
        )))
        .add_service(
            RaftServer::new(RaftService::new(
                raft.clone(),
                options.id,
                Arc::clone(&contact),
                leader_window,
            ))
            .max_decoding_message_size(MAX_RAFT_MESSAGE),
        )
        .add_service(ClusterAdminServer::new(AdminService::new(
            raft.clone(),
            options.id,
        )));
        let router = http::routes(
            grpc.into_axum_router(),
            raft.clone(),
            options.id,
            metrics,
            Arc::clone(&contact),
            options.data_dir.clone(),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(
            Server::builder()
                .accept_http1(true)
                .http2_max_pending_accept_reset_streams(Some(MAX_PENDING_RESETS))
                .add_routes(Routes::from(router))
                .serve_with_incoming_shutdown(without_nagle(listener), async {
                    let _ = stopped.await;
                }),
        );

        let sweeper = Sweeper::spawn(
            replica.clone(),
            options.id,
            options.sweep_interval,
            options.sweep_limit,
        );
        let election_gate = election_gate::spawn(
            raft.clone(),
            network.clone(),
            contact,
            options.id,
            GateTimings {
                every: Duration::from_millis(options.timings.heartbeat_ms),
                leader_window,
            },
        );
        let (leading, leadership_watch) = LeadingSince::spawn(raft.clone());
        let bootstrap = options.bootstrap.then(|| {
            let raft = raft.clone();
            let peers = options.peers.clone();
            let id = options.id;
            tokio::spawn(async move { bootstrap::maybe_initialize(&raft, id, &peers).await })
        });
        tracing::info!(id = options.id, %local_addr, %url, "store node started");
        // Each step of a handover gets a few election timeouts before the node gives up and
        // stops anyway (the others then elect as after a failure).
        let step = Duration::from_millis(options.timings.election_max_ms.saturating_mul(3));
        Ok(StoreNode {
            id: options.id,
            network,
            writes,
            handover: HandoverTimings {
                lease,
                catch_up: step,
                election: step,
            },
            leading,
            leadership_watch: Mutex::new(Some(leadership_watch)),
            local_addr,
            url,
            replica,
            storage: node.storage,
            sweeper: Mutex::new(Some(sweeper)),
            election_gate: Mutex::new(Some(election_gate)),
            server: Mutex::new(Some(Serving { stop, task })),
            bootstrap: Mutex::new(bootstrap),
            request_timeout: options.request_timeout,
        })
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The address the node is bound to (with the real port when started on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The URL this node advertises.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The replica serving this node's grant store requests.
    pub fn replica(&self) -> &Replica {
        &self.replica
    }

    /// The Raft node.
    pub fn raft(&self) -> &StoreRaft {
        self.replica.raft()
    }

    /// Stops the node the way a rolling restart wants: a leader first hands its leadership
    /// to an up-to-date voter ([`super::handover`]; the node stops anyway if that fails),
    /// then everything stops ([`StoreNode::shutdown`]).
    pub async fn stop(&self) -> Result<(), StoreError> {
        if let Some(task) = self.bootstrap.lock().ok().and_then(|mut b| b.take()) {
            task.abort();
        }
        let sweeper = self.sweeper.lock().ok().and_then(|mut s| s.take());
        if let Some(sweeper) = sweeper {
            sweeper.stop().await;
        }
        match self.hand_over().await {
            Ok(leader) => tracing::info!(id = self.id, leader, "leadership handed over"),
            Err(HandoverError::NotLeader) => {}
            Err(error) => tracing::warn!(
                id = self.id,
                error = ?error,
                "leadership not handed over; the others will elect"
            ),
        }
        self.shutdown().await
    }

    /// Hands leadership over to an up-to-date voter if this node leads; returns the new
    /// leader. Writes stay refused on this node afterwards, and it no longer campaigns: for a
    /// node about to stop.
    pub async fn hand_over(&self) -> Result<NodeId, HandoverError> {
        if let Some(gate) = self.election_gate.lock().ok().and_then(|mut g| g.take()) {
            gate.abort();
        }
        // Once it has voted for its successor, it must not take the leadership back if the
        // successor's first election fails (with five voters it can).
        self.raft().runtime_config().elect(false);
        handover::hand_over(
            self.raft(),
            &self.network,
            &self.writes,
            &self.leading,
            self.id,
            self.handover,
        )
        .await
    }

    /// Stops serving, the sweeper and Raft, then syncs and closes the storage, without handing
    /// leadership over (as after a crash, but with the storage synced). Requests in flight
    /// fail as unavailable; clients retry at another node.
    pub async fn shutdown(&self) -> Result<(), StoreError> {
        if let Some(task) = self.bootstrap.lock().ok().and_then(|mut b| b.take()) {
            task.abort();
        }
        let sweeper = self.sweeper.lock().ok().and_then(|mut s| s.take());
        if let Some(sweeper) = sweeper {
            sweeper.stop().await;
        }
        if let Some(gate) = self.election_gate.lock().ok().and_then(|mut g| g.take()) {
            gate.abort();
        }
        if let Some(watch) = self.leadership_watch.lock().ok().and_then(|mut w| w.take()) {
            watch.abort();
        }
        self.replica.shutdown().await;
        let server = self.server.lock().ok().and_then(|mut s| s.take());
        if let Some(server) = server {
            let _ = server.stop.send(());
            let mut task = server.task;
            match tokio::time::timeout(DRAIN_TIMEOUT, &mut task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => tracing::warn!(error = %e, "the server stopped with an error"),
                Ok(Err(e)) => tracing::warn!(error = %e, "the server task failed"),
                Err(_) => {
                    tracing::info!("connections still open after the drain timeout; closing");
                    task.abort();
                }
            }
        }
        self.raft()
            .shutdown()
            .await
            .map_err(|e| internal("stopping raft", e))?;
        self.storage.close(self.request_timeout).await
    }
}

impl Drop for StoreNode {
    fn drop(&mut self) {
        if let Some(sweeper) = self.sweeper.get_mut().ok().and_then(Option::take) {
            sweeper.abort();
        }
        if let Some(server) = self.server.get_mut().ok().and_then(Option::take) {
            server.task.abort();
        }
        if let Some(task) = self.bootstrap.get_mut().ok().and_then(Option::take) {
            task.abort();
        }
        if let Some(gate) = self.election_gate.get_mut().ok().and_then(Option::take) {
            gate.abort();
        }
        if let Some(watch) = self.leadership_watch.get_mut().ok().and_then(Option::take) {
            watch.abort();
        }
    }
}

/// Waits until Raft has published the state it loaded from storage: until then its metrics
/// are placeholders (term 0, no log, no snapshot).
async fn loaded(raft: &StoreRaft) -> Result<(), StoreError> {
    let mut metrics = raft.metrics();
    match tokio::time::timeout(LOAD_TIMEOUT, metrics.changed()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(StoreError::internal("raft stopped while loading its state")),
        Err(_) => Err(StoreError::internal(format!(
            "raft did not load its state within {LOAD_TIMEOUT:?}"
        ))),
    }
}
