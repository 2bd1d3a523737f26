//! [`NodeMetrics`]: the Prometheus metrics of a store node, served at `GET /metrics`.
//!
//! Raft gauges are read from openraft's metrics at scrape time; the proposal latency histogram
//! is fed by the `GrantStore` service; the data size is measured on disk at scrape time (see
//! [`data_size`]), so a dashboard can show a node's growth beside its volume's free space. Each node has its own registry (several nodes may run in
//! one process, as in tests).
//!
//! A value the node does not have (no leader known, an empty log, no snapshot) is reported by
//! leaving its series out, never as a placeholder number: an alert or a graph then sees "no
//! data", not a made-up index. (After a restart a node holds no snapshot until it builds one,
//! which it does at once if its log was purged.)

use crate::types::{NodeId, StoreRaft};
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::io;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A follower counts as healthy while it is at most this many entries behind the leader.
pub const HEALTHY_LAG: u64 = 1_000;

/// The metrics of one store node.
pub struct NodeMetrics {
    registry: Registry,
    term: IntGauge,
    leader_id: OptionalGauge,
    is_leader: IntGauge,
    commit_index: OptionalGauge,
    applied_index: OptionalGauge,
    apply_lag: IntGauge,
    last_log_index: OptionalGauge,
    snapshot_index: OptionalGauge,
    snapshot_age: OptionalGauge,
    replication_lag: IntGaugeVec,
    peer_healthy: IntGaugeVec,
    proposals: Histogram,
    data_size: OptionalGauge,
    /// The last snapshot index seen, and when it was first seen (or the node started).
    snapshot_seen: Mutex<(Option<u64>, Instant)>,
}

fn gauge(registry: &Registry, name: &str, help: &str) -> Result<IntGauge, prometheus::Error> {
    let gauge = IntGauge::new(name, help)?;
    registry.register(Box::new(gauge.clone()))?;
    Ok(gauge)
}

/// A gauge whose series is absent while its value is unknown.
struct OptionalGauge(IntGaugeVec);

impl OptionalGauge {
    fn new(registry: &Registry, name: &str, help: &str) -> Result<Self, prometheus::Error> {
        let gauge = IntGaugeVec::new(Opts::new(name, help), &[])?;
        registry.register(Box::new(gauge.clone()))?;
        Ok(Self(gauge))
    }

    fn set(&self, value: Option<u64>) {
        match value {
            Some(value) => self.0.with_label_values::<&str>(&[]).set(to_i64(value)),
            None => self.0.reset(),
        }
    }
}

fn peer_gauge(
    registry: &Registry,
    name: &str,
    help: &str,
) -> Result<IntGaugeVec, prometheus::Error> {
    let gauge = IntGaugeVec::new(Opts::new(name, help), &["peer"])?;
    registry.register(Box::new(gauge.clone()))?;
    Ok(gauge)
}

/// What the Raft metrics say, condensed (also used by the admin `Status`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Positions {
    /// The highest index known committed: on the leader, the index a majority of voters hold;
    /// elsewhere the applied index (openraft 0.9 does not publish a follower's commit index).
    pub committed: Option<u64>,
    /// The highest applied index.
    pub applied: Option<u64>,
    /// The highest stored index.
    pub last_log: Option<u64>,
    /// The index covered by the latest snapshot.
    pub snapshot: Option<u64>,
    /// On the leader: each other node's matched index and lag behind the last log index.
    pub replication: Vec<(NodeId, Option<u64>, u64)>,
}

/// Reads the positions out of `raft`'s current metrics.
pub fn positions(raft: &StoreRaft) -> Positions {
    let metrics = raft.metrics().borrow().clone();
    let applied = metrics.last_applied.map(|id| id.index);
    let last_log = metrics.last_log_index;
    let mut replication = Vec::new();
    let mut committed = applied;
    if let Some(matched) = &metrics.replication {
        let last = last_log.unwrap_or(0);
        for (node, log_id) in matched {
            if *node == metrics.id {
                continue;
            }
            let index = log_id.map(|id| id.index);
            replication.push((*node, index, last.saturating_sub(index.unwrap_or(0))));
        }
        // The commit index: the highest index that a majority of voters hold.
        let membership = metrics.membership_config.membership();
        let mut held: Vec<u64> = membership
            .voter_ids()
            .map(|voter| {
                if voter == metrics.id {
                    last
                } else {
                    matched
                        .get(&voter)
                        .copied()
                        .flatten()
                        .map_or(0, |id| id.index)
                }
            })
            .collect();
        held.sort_unstable_by(|a, b| b.cmp(a));
        let quorum = held.len() / 2;
        if let Some(index) = held.get(quorum) {
            committed = Some(*index);
        }
    }
    Positions {
        committed,
        applied,
        last_log,
        snapshot: metrics.snapshot.map(|id| id.index),
        replication,
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl NodeMetrics {
    /// Creates and registers the metrics of `raft`'s node, which has just started (a snapshot
    /// it holds now was built at start).
    pub fn new(raft: &StoreRaft) -> Result<NodeMetrics, prometheus::Error> {
        let snapshot = raft.metrics().borrow().snapshot.map(|id| id.index);
        let r = Registry::new();
        let proposals = Histogram::with_opts(
            HistogramOpts::new(
                "sigil_store_proposal_duration_seconds",
                "Time from receiving a write to its commit and apply, on the leader.",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
        )?;
        r.register(Box::new(proposals.clone()))?;
        Ok(NodeMetrics {
            term: gauge(&r, "sigil_store_raft_term", "The current Raft term.")?,
            leader_id: OptionalGauge::new(
                &r,
                "sigil_store_raft_leader_id",
                "The leader this node knows; absent while it knows none.",
            )?,
            is_leader: gauge(&r, "sigil_store_raft_is_leader", "1 if this node leads.")?,
            commit_index: OptionalGauge::new(
                &r,
                "sigil_store_raft_commit_index",
                "Highest log index known committed.",
            )?,
            applied_index: OptionalGauge::new(
                &r,
                "sigil_store_raft_applied_index",
                "Highest log index applied to the state machine.",
            )?,
            apply_lag: gauge(
                &r,
                "sigil_store_raft_apply_lag",
                "Log entries stored but not yet applied.",
            )?,
            last_log_index: OptionalGauge::new(
                &r,
                "sigil_store_raft_last_log_index",
                "Highest log index stored.",
            )?,
            snapshot_index: OptionalGauge::new(
                &r,
                "sigil_store_raft_snapshot_index",
                "Log index covered by the snapshot this node holds; absent while it holds none.",
            )?,
            snapshot_age: OptionalGauge::new(
                &r,
                "sigil_store_raft_snapshot_age_seconds",
                "Seconds since this node's snapshot was built or installed, as this process saw it.",
            )?,
            replication_lag: peer_gauge(
                &r,
                "sigil_store_raft_replication_lag",
                "On the leader: log entries each peer is behind.",
            )?,
            peer_healthy: peer_gauge(
                &r,
                "sigil_store_raft_peer_healthy",
                "On the leader: 1 if the peer has replicated and lags by at most 1000 entries.",
            )?,
            data_size: OptionalGauge::new(
                &r,
                "sigil_store_data_size_bytes",
                "Bytes of the files under this node's data directory (log, state and snapshots); \
                 absent if they could not be read.",
            )?,
            proposals,
            registry: r,
            snapshot_seen: Mutex::new((snapshot, Instant::now())),
        })
    }

    /// Records how long one write took.
    pub fn observe_proposal(&self, elapsed: Duration) {
        self.proposals.observe(elapsed.as_secs_f64());
    }

    /// Records the size of the data directory measured for this scrape (`None`: unreadable).
    pub fn set_data_size(&self, bytes: Option<u64>) {
        self.data_size.set(bytes);
    }

    /// Refreshes the Raft gauges from `raft` and renders every metric in the text format.
    pub fn render(&self, raft: &StoreRaft) -> String {
        let metrics = raft.metrics().borrow().clone();
        let positions = positions(raft);
        self.term.set(to_i64(metrics.current_term));
        self.leader_id.set(metrics.current_leader);
        self.is_leader
            .set(i64::from(metrics.current_leader == Some(metrics.id)));
        self.commit_index.set(positions.committed);
        self.applied_index.set(positions.applied);
        self.last_log_index.set(positions.last_log);
        self.apply_lag.set(to_i64(
            positions
                .last_log
                .unwrap_or(0)
                .saturating_sub(positions.applied.unwrap_or(0)),
        ));
        self.snapshot_index.set(positions.snapshot);
        if let Ok(mut seen) = self.snapshot_seen.lock() {
            if seen.0 != positions.snapshot {
                *seen = (positions.snapshot, Instant::now());
            }
            let age = seen.1.elapsed().as_secs();
            self.snapshot_age.set(positions.snapshot.map(|_| age));
        }
        self.replication_lag.reset();
        self.peer_healthy.reset();
        for (peer, matched, lag) in &positions.replication {
            let label = peer.to_string();
            self.replication_lag
                .with_label_values(&[label.as_str()])
                .set(to_i64(*lag));
            let healthy = matched.is_some() && *lag <= HEALTHY_LAG;
            self.peer_healthy
                .with_label_values(&[label.as_str()])
                .set(i64::from(healthy));
        }
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            return format!("# encoding metrics failed: {e}\n");
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// The total length of the regular files under `dir`, recursively (symbolic links are not
/// followed). Blocking: it reads the directory tree.
pub fn data_size(dir: &Path) -> io::Result<u64> {
    let mut total = 0u64;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                total = total.saturating_add(entry.metadata()?.len());
            }
        }
    }
    Ok(total)
}
