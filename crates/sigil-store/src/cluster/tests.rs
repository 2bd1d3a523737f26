//! An in-process cluster on 127.0.0.1: election, replication, fail-over, membership changes
//! and the leader hint, over real gRPC.

use super::{NodeOptions, RaftTimings, StoreNode};
use crate::types::{Command, NodeId, RequestId, Response as StoreResponse};
use sigil_core::handle::GrantKey;
use sigil_core::store::{Grant, GrantKind, PutOutcome};
use sigil_core::time::Timestamp;
use sigil_store_proto as wire;
use sigil_store_proto::cluster_admin_client::ClusterAdminClient;
use sigil_store_proto::grant_store_client::GrantStoreClient;
use std::collections::BTreeMap;
use std::time::Duration;
use tempfile::TempDir;
use tokio::net::TcpListener;

const FAST: RaftTimings = RaftTimings {
    heartbeat_ms: 50,
    election_min_ms: 150,
    election_max_ms: 300,
};
const WAIT: Option<Duration> = Some(Duration::from_secs(5));

struct Cluster {
    nodes: BTreeMap<NodeId, StoreNode>,
    peers: BTreeMap<NodeId, String>,
    dirs: BTreeMap<NodeId, TempDir>,
}

fn options(id: NodeId, dir: &TempDir, peers: &BTreeMap<NodeId, String>) -> NodeOptions {
    let mut options = NodeOptions::new(id, "127.0.0.1:0".parse().unwrap(), dir.path());
    options.peers = peers.clone();
    options.timings = FAST;
    options.request_timeout = Duration::from_secs(2);
    options
}

async fn listener() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

impl Cluster {
    async fn start(ids: &[NodeId]) -> Cluster {
        let mut listeners = Vec::new();
        let mut peers = BTreeMap::new();
        for id in ids {
            let (listener, url) = listener().await;
            peers.insert(*id, url);
            listeners.push((*id, listener));
        }
        let mut nodes = BTreeMap::new();
        let mut dirs = BTreeMap::new();
        for (id, listener) in listeners {
            let dir = TempDir::new().unwrap();
            let node = StoreNode::start_on(listener, options(id, &dir, &peers))
                .await
                .unwrap();
            nodes.insert(id, node);
            dirs.insert(id, dir);
        }
        Cluster { nodes, peers, dirs }
    }

    /// Stops node `id` and starts it again on its address and data.
    async fn restart(&mut self, id: NodeId) {
        let node = self.nodes.remove(&id).unwrap();
        let addr = node.local_addr();
        node.shutdown().await.unwrap();
        // Lets go of the database's lock.
        drop(node);
        let listener = TcpListener::bind(addr).await.unwrap();
        let options = options(id, self.dirs.get(&id).unwrap(), &self.peers);
        let node = StoreNode::start_on(listener, options).await.unwrap();
        self.nodes.insert(id, node);
    }

    /// Waits until every running node agrees on a leader; returns it.
    async fn leader(&self) -> NodeId {
        self.leader_other_than(None).await
    }

    /// Waits until every running node agrees on a leader that is not `gone`; returns it.
    async fn leader_other_than(&self, gone: Option<NodeId>) -> NodeId {
        let first = self.nodes.values().next().unwrap();
        let leader = first
            .raft()
            .wait(WAIT)
            .metrics(
                |m| m.current_leader.is_some() && m.current_leader != gone,
                "a leader",
            )
            .await
            .unwrap()
            .current_leader
            .unwrap();
        for node in self.nodes.values() {
            node.raft()
                .wait(WAIT)
                .current_leader(leader, "all agree on the leader")
                .await
                .unwrap();
        }
        leader
    }

    fn node(&self, id: NodeId) -> &StoreNode {
        self.nodes.get(&id).unwrap()
    }
}

fn grant(name: &str) -> Grant {
    let now = Timestamp::now();
    Grant {
        key: GrantKey::derived("cluster-test", &[name]),
        kind: GrantKind::ReferenceToken,
        client_id: "app".into(),
        subject: Some("alice".into()),
        family: None,
        issued_at: now,
        expires_at: now.plus(Duration::from_secs(600)),
        consumed_at: None,
        payload: name.as_bytes().to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_survive_the_leader_and_followers_point_to_it() {
    let mut cluster = Cluster::start(&[1, 2, 3]).await;
    let leader = cluster.leader().await;

    let stored = grant("first");
    let put = cluster
        .node(leader)
        .replica()
        .submit(
            Some(RequestId([1; 16])),
            Command::Put {
                grant: stored.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(put, StoreResponse::Put(PutOutcome::Stored));

    // A follower refuses the write and names the leader.
    let follower = *cluster.nodes.keys().find(|id| **id != leader).unwrap();
    let hint = refused_write_hint(cluster.node(follower).url(), 2, "second").await;
    assert_eq!(hint.as_deref(), Some(cluster.node(leader).url()));
    let mut client = GrantStoreClient::connect(cluster.node(follower).url().to_owned())
        .await
        .unwrap();
    // A malformed request is rejected as such.
    let malformed = client
        .get(wire::GetRequest {
            request_id: vec![3; 16],
            key: vec![0; 5],
        })
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), tonic::Code::InvalidArgument);

    // Kill the leader: the others elect a new one, which has the grant.
    let old = cluster.nodes.remove(&leader).unwrap();
    old.shutdown().await.unwrap();
    let new_leader = cluster.leader_other_than(Some(leader)).await;
    let read = cluster
        .node(new_leader)
        .replica()
        .get(&stored.key)
        .await
        .unwrap();
    assert_eq!(read, Some(stored));

    // Over gRPC too, with the metrics endpoint on the same port.
    let url = cluster.node(new_leader).url().to_owned();
    let mut client = GrantStoreClient::connect(url.clone()).await.unwrap();
    let listed = client
        .list_by_subject(wire::ListBySubjectRequest {
            request_id: vec![4; 16],
            subject: "alice".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.grants.len(), 1);

    for node in cluster.nodes.values() {
        node.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_are_added_and_removed() {
    let mut cluster = Cluster::start(&[1, 2, 3]).await;
    let leader = cluster.leader().await;
    let leader_url = cluster.node(leader).url().to_owned();

    // A fourth node, started to join (no bootstrap), knowing only itself.
    let dir = TempDir::new().unwrap();
    let (listener, url) = listener().await;
    let mut fourth = options(4, &dir, &BTreeMap::from([(4, url.clone())]));
    fourth.bootstrap = false;
    let fourth = StoreNode::start_on(listener, fourth).await.unwrap();

    let mut admin = ClusterAdminClient::connect(leader_url).await.unwrap();
    let added = admin
        .add_member(wire::AddMemberRequest {
            id: 4,
            addr: url.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let voters: Vec<u64> = added
        .members
        .iter()
        .filter(|m| m.voter)
        .map(|m| m.id)
        .collect();
    assert_eq!(voters, vec![1, 2, 3, 4]);
    fourth
        .raft()
        .wait(WAIT)
        .current_leader(leader, "the new node follows the leader")
        .await
        .unwrap();

    let gone = *cluster.nodes.keys().find(|id| **id != leader).unwrap();
    let removed = admin
        .remove_member(wire::RemoveMemberRequest { id: gone })
        .await
        .unwrap()
        .into_inner();
    assert!(removed.members.iter().all(|m| m.id != gone));
    assert_eq!(removed.members.len(), 3);

    let status = admin
        .status(wire::StatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.leader_id, Some(leader));
    assert!(status.initialized);
    assert_eq!(
        status
            .replication
            .iter()
            .filter(|r| r.node_id != gone)
            .count(),
        2
    );

    // /metrics and /readyz answer on the gRPC port.
    let metrics = http_get(cluster.node(leader).local_addr(), "/metrics").await;
    assert!(
        metrics.contains("sigil_store_raft_is_leader 1"),
        "{metrics}"
    );
    assert!(
        http_get(fourth.local_addr(), "/readyz")
            .await
            .starts_with("HTTP/1.1 200")
    );

    fourth.shutdown().await.unwrap();
    for (_, node) in std::mem::take(&mut cluster.nodes) {
        node.shutdown().await.unwrap();
    }
}

/// A bare HTTP/1.1 GET; returns the whole response.
async fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_without_a_majority_refuses_at_once() {
    let mut cluster = Cluster::start(&[1, 2, 3]).await;
    let leader = cluster.leader().await;
    for (_, node) in cluster.nodes.extract_if(.., |id, _| *id != leader) {
        node.shutdown().await.unwrap();
    }
    // Past the leader lease (FAST: 300 ms) nobody has acknowledged it; it still leads.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let node = cluster.node(leader);
    assert_eq!(
        node.raft().metrics().borrow().current_leader,
        Some(leader),
        "openraft keeps a cut-off leader leading"
    );

    // Its clients learn at once that it cannot serve, rather than when their deadline passes.
    let mut client = GrantStoreClient::connect(node.url().to_owned())
        .await
        .unwrap();
    let mut write = tonic::Request::new(wire::PutRequest {
        request_id: vec![7; 16],
        grant: Some(wire::Grant::try_from(grant("stranded")).unwrap()),
    });
    write.set_timeout(Duration::from_millis(1500));
    let refused = client.put(write).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert!(refused.message().contains("majority"), "{refused:?}");
    assert!(refused.metadata().get(wire::LEADER_METADATA_KEY).is_none());
    let mut read = tonic::Request::new(wire::GetRequest {
        request_id: vec![8; 16],
        key: GrantKey::derived("cluster-test", &["stranded"])
            .as_bytes()
            .to_vec(),
    });
    read.set_timeout(Duration::from_millis(1500));
    let refused = client.get(read).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");

    node.shutdown().await.unwrap();
}

/// Asks the node at `url` the pre-vote for a node whose last log id is `last_log`.
async fn pre_vote(url: &str, last_log: Option<crate::types::LogId>) -> bool {
    use super::pre_vote::{PreVoteRequest, PreVoteResponse};
    let mut client = wire::raft_client::RaftClient::connect(url.to_owned())
        .await
        .unwrap();
    let data = postcard::to_allocvec(&PreVoteRequest { last_log }).unwrap();
    let reply = client
        .pre_vote(wire::RaftMessage { data })
        .await
        .unwrap()
        .into_inner();
    postcard::from_bytes::<PreVoteResponse>(&reply.data)
        .unwrap()
        .granted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_cannot_win_does_not_campaign() {
    let mut cluster = Cluster::start(&[1, 2, 3]).await;
    let leader = cluster.leader().await;
    let lone = *cluster.nodes.keys().find(|id| **id != leader).unwrap();
    let url = cluster.node(lone).url().to_owned();
    let last_log = cluster.node(lone).raft().data_metrics().borrow().last_log;

    // While it hears from the leader, a follower votes for nobody.
    assert!(!pre_vote(&url, last_log).await);

    // Alone, it would lose every election: it must not start one, since each would raise its
    // term, and a higher term deposes the leader when the node is reachable again.
    let term = cluster.node(lone).raft().metrics().borrow().current_term;
    for (_, node) in cluster.nodes.extract_if(.., |id, _| *id != lone) {
        node.shutdown().await.unwrap();
    }
    // Several election timeouts (FAST: a follower campaigns 450–600 ms after the last leader
    // message).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let metrics = cluster.node(lone).raft().metrics().borrow().clone();
    assert_eq!(metrics.current_term, term, "{metrics:?}");

    // It no longer hears a leader: it would vote for a node as up to date as itself, not for
    // one that is behind.
    assert!(pre_vote(&url, last_log).await);
    assert!(!pre_vote(&url, None).await);

    cluster.node(lone).shutdown().await.unwrap();
}

// One thread: Raft's task cannot run behind the test's back, so whatever the node reports
// when `start_on` returns is what it loaded before serving.
#[tokio::test(flavor = "current_thread")]
async fn metrics_report_what_the_node_holds_and_nothing_it_does_not() {
    let mut cluster = Cluster::start(&[1, 2, 3]).await;
    let leader = cluster.leader().await;
    let follower = *cluster.nodes.keys().find(|id| **id != leader).unwrap();
    let term = cluster
        .node(follower)
        .raft()
        .metrics()
        .borrow()
        .current_term;
    assert!(term > 0);

    // No snapshot yet: no snapshot series, rather than a placeholder.
    let metrics = http_get(cluster.node(follower).local_addr(), "/metrics").await;
    assert!(
        !metrics.contains("\nsigil_store_raft_snapshot_index "),
        "{metrics}"
    );
    assert!(
        !metrics.contains("\nsigil_store_raft_snapshot_age_seconds "),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("\nsigil_store_raft_leader_id {leader}\n")),
        "{metrics}"
    );
    // The data directory holds at least the database file: its size is measured, not zero.
    let size: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("sigil_store_data_size_bytes "))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no data size in {metrics}"));
    assert!(size > 0, "{metrics}");

    // Restarted on its data, it reports the term it stored from its very first answer.
    cluster.restart(follower).await;
    let reported = cluster
        .node(follower)
        .raft()
        .metrics()
        .borrow()
        .current_term;
    assert_eq!(reported, term, "the term reported on start");
    let metrics = http_get(cluster.node(follower).local_addr(), "/metrics").await;
    assert!(
        metrics.contains(&format!("\nsigil_store_raft_term {term}\n")),
        "{metrics}"
    );

    for (_, node) in std::mem::take(&mut cluster.nodes) {
        node.shutdown().await.unwrap();
    }
}

#[test]
fn data_size_sums_every_file_under_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a"), [0u8; 10]).unwrap();
    std::fs::create_dir_all(dir.path().join("blobs/deeper")).unwrap();
    std::fs::write(dir.path().join("blobs/b"), [0u8; 200]).unwrap();
    std::fs::write(dir.path().join("blobs/deeper/c"), [0u8; 3000]).unwrap();
    assert_eq!(super::metrics::data_size(dir.path()).unwrap(), 3210);
    assert!(super::metrics::data_size(&dir.path().join("missing")).is_err());
}

/// Sends `request` as `TimeoutNow` to the node at `url`.
async fn timeout_now(
    url: &str,
    request: &super::handover::TimeoutNowRequest,
) -> super::handover::TimeoutNowResponse {
    let mut client = wire::raft_client::RaftClient::connect(url.to_owned())
        .await
        .unwrap();
    let data = postcard::to_allocvec(request).unwrap();
    let reply = client
        .timeout_now(wire::RaftMessage { data })
        .await
        .unwrap()
        .into_inner();
    postcard::from_bytes(&reply.data).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_leader_hands_over_while_it_still_runs() {
    let mut cluster = Cluster::start(&[1, 2, 3]).await;
    let leader = cluster.leader().await;
    let term = cluster.node(leader).raft().metrics().borrow().current_term;
    let stored = grant("before the handover");
    cluster
        .node(leader)
        .replica()
        .submit(
            Some(RequestId([9; 16])),
            Command::Put {
                grant: stored.clone(),
            },
        )
        .await
        .unwrap();

    // The old leader is still running and would keep its followers from electing for as long
    // as it heartbeats: another node leads only because it handed over.
    let successor = cluster.node(leader).hand_over().await.unwrap();
    assert_ne!(successor, leader);
    let old = cluster.node(leader).raft().metrics().borrow().clone();
    assert_eq!(old.current_leader, Some(successor), "{old:?}");
    assert_eq!(old.current_term, term + 1, "one election, no contest");

    // Writes sent to the old leader now are refused at once, naming the successor.
    let hint = refused_write_hint(cluster.node(leader).url(), 10, "during").await;
    assert_eq!(hint.as_deref(), Some(cluster.node(successor).url()));

    // Nothing acknowledged was lost, and the cluster takes writes.
    let old = cluster.nodes.remove(&leader).unwrap();
    old.shutdown().await.unwrap();
    assert_eq!(cluster.leader().await, successor);
    let read = cluster
        .node(successor)
        .replica()
        .get(&stored.key)
        .await
        .unwrap();
    assert_eq!(read, Some(stored));
    let put = cluster
        .node(successor)
        .replica()
        .submit(
            None,
            Command::Put {
                grant: grant("after"),
            },
        )
        .await
        .unwrap();
    assert_eq!(put, StoreResponse::Put(PutOutcome::Stored));

    for node in cluster.nodes.values() {
        node.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_a_node_follows_can_make_it_campaign() {
    use super::handover::{Refusal, TimeoutNowRequest};
    let cluster = Cluster::start(&[1, 2, 3]).await;
    let leader = cluster.leader().await;
    let mut followers = cluster.nodes.keys().filter(|id| **id != leader).copied();
    let (target, other) = (followers.next().unwrap(), followers.next().unwrap());
    let node = cluster.node(target);
    let term = node.raft().metrics().borrow().current_term;
    let last_log = node.raft().data_metrics().borrow().last_log;

    // Another follower (a node cut off and back, say), or the leader of an earlier term.
    for request in [
        TimeoutNowRequest {
            leader: other,
            term,
            last_log,
        },
        TimeoutNowRequest {
            leader,
            term: term - 1,
            last_log,
        },
    ] {
        let answer = timeout_now(node.url(), &request).await;
        assert!(
            matches!(answer.outcome, Err(Refusal::NotMyLeader { .. })),
            "{answer:?}"
        );
    }
    // The leader itself, but the node lacks part of the log the request claims.
    let ahead = last_log.map(|mut id| {
        id.index += 5;
        id
    });
    let answer = timeout_now(
        node.url(),
        &TimeoutNowRequest {
            leader,
            term,
            last_log: ahead,
        },
    )
    .await;
    assert!(
        matches!(answer.outcome, Err(Refusal::Behind { .. })),
        "{answer:?}"
    );

    // Nothing moved: same term, same leader, everywhere.
    for node in cluster.nodes.values() {
        let metrics = node.raft().metrics().borrow().clone();
        assert_eq!(metrics.current_term, term, "{metrics:?}");
        assert_eq!(metrics.current_leader, Some(leader), "{metrics:?}");
    }
    for node in cluster.nodes.values() {
        node.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_five_voters_the_old_leader_does_not_take_the_leadership_back() {
    let cluster = Cluster::start(&[1, 2, 3, 4, 5]).await;
    let leader = cluster.leader().await;
    // Past the leader lease of the election (FAST: 300 ms), as a rollout would be.
    tokio::time::sleep(Duration::from_millis(400)).await;
    // The three others still hold the old leader's lease and refuse the successor's first
    // vote, so it is elected only once the lease has run out (the handover may report that
    // it took too long on a loaded machine). Meanwhile the old leader, which voted for the
    // successor, must not campaign and win again.
    match cluster.node(leader).hand_over().await {
        Ok(successor) => assert_ne!(successor, leader),
        Err(super::handover::HandoverError::NoNewLeader { .. }) => {}
        Err(other) => panic!("{other:?}"),
    }
    let successor = cluster.leader_other_than(Some(leader)).await;
    assert_ne!(successor, leader);
    for node in cluster.nodes.values() {
        node.shutdown().await.unwrap();
    }
}

/// Polls `path` on `addr` until its status line starts with `status`, for up to 5 s.
async fn wait_for_status(addr: std::net::SocketAddr, path: &str, status: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let response = http_get(addr, path).await;
        if response.starts_with(status) || std::time::Instant::now() > deadline {
            return response;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_is_ready_only_while_it_has_caught_up_with_its_leader() {
    use openraft::raft::AppendEntriesRequest;
    let cluster = Cluster::start(&[1, 2, 3]).await;
    let leader = cluster.leader().await;
    let follower = *cluster.nodes.keys().find(|id| **id != leader).unwrap();
    let addr = cluster.node(follower).local_addr();
    let ready = wait_for_status(addr, "/readyz", "HTTP/1.1 200").await;
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");

    // The leader announces a commit index far beyond what the follower holds, as it does
    // while a restarted follower replays what it missed. (Its heartbeats pause meanwhile, so
    // that the next one does not announce the real index at once.)
    cluster
        .node(leader)
        .raft()
        .runtime_config()
        .heartbeat(false);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let vote = cluster.node(leader).raft().metrics().borrow().vote;
    let last = cluster
        .node(follower)
        .raft()
        .data_metrics()
        .borrow()
        .last_log;
    let ahead = last.map(|id| crate::types::LogId::new(id.leader_id, id.index + 1_000));
    let request = AppendEntriesRequest::<crate::types::TypeConfig> {
        vote,
        prev_log_id: last,
        entries: Vec::new(),
        leader_commit: ahead,
    };
    let mut raft = wire::raft_client::RaftClient::connect(cluster.node(follower).url().to_owned())
        .await
        .unwrap();
    raft.append_entries(wire::RaftMessage {
        data: postcard::to_allocvec(&request).unwrap(),
    })
    .await
    .unwrap();
    let behind = http_get(addr, "/readyz").await;
    assert!(behind.starts_with("HTTP/1.1 503"), "{behind}");
    assert!(behind.contains("catching up"), "{behind}");

    // Heartbeats announce the real commit index again: ready.
    cluster.node(leader).raft().runtime_config().heartbeat(true);
    let ready = wait_for_status(addr, "/readyz", "HTTP/1.1 200").await;
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");

    for node in cluster.nodes.values() {
        node.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_best_successor_cannot_take_over_the_next_one_is_asked() {
    let mut cluster = Cluster::start(&[1, 2, 3]).await;
    let leader = cluster.leader().await;
    // The followers hold the same log; the higher id would be asked first, but it is down.
    let down = *cluster
        .nodes
        .keys()
        .filter(|id| **id != leader)
        .max()
        .unwrap();
    let up = *cluster
        .nodes
        .keys()
        .find(|id| **id != leader && **id != down)
        .unwrap();
    cluster
        .nodes
        .remove(&down)
        .unwrap()
        .shutdown()
        .await
        .unwrap();

    assert_eq!(cluster.node(leader).hand_over().await.unwrap(), up);
    assert_eq!(cluster.leader_other_than(Some(leader)).await, up);
    for node in cluster.nodes.values() {
        node.shutdown().await.unwrap();
    }
}

/// Writes grant `name` to the node at `url`, which must refuse it as `Unavailable`; returns
/// the leader it names, if any.
async fn refused_write_hint(url: &str, request_id: u8, name: &str) -> Option<String> {
    let mut client = GrantStoreClient::connect(url.to_owned()).await.unwrap();
    let refused = client
        .put(wire::PutRequest {
            request_id: vec![request_id; 16],
            grant: Some(wire::Grant::try_from(grant(name)).unwrap()),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    refused
        .metadata()
        .get(wire::LEADER_METADATA_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
