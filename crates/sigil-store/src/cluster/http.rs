//! The plain HTTP endpoints served on the gRPC port: `GET /metrics` (Prometheus text),
//! `GET /healthz` (the process is up) and `GET /readyz` (200 once this node knows a leader and
//! has caught up with it, 503 before: see [`super::readiness`]).

use super::metrics::{NodeMetrics, data_size, positions};
use super::pre_vote::LeaderContact;
use super::readiness::{self, View};
use crate::types::{NodeId, StoreRaft};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone)]
struct Http {
    raft: StoreRaft,
    id: NodeId,
    metrics: Arc<NodeMetrics>,
    contact: Arc<LeaderContact>,
    /// The node's data directory, measured for `sigil_store_data_size_bytes` at each scrape.
    data_dir: Arc<PathBuf>,
}

/// Adds the HTTP endpoints of node `id` to `router` (the gRPC services' router); `contact`
/// holds the commit index the leader last announced.
pub fn routes(
    router: Router,
    raft: StoreRaft,
    id: NodeId,
    metrics: Arc<NodeMetrics>,
    contact: Arc<LeaderContact>,
    data_dir: PathBuf,
) -> Router {
    let endpoints = Router::new()
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(Http {
            raft,
            id,
            metrics,
            contact,
            data_dir: Arc::new(data_dir),
        });
    router.merge(endpoints)
}

async fn metrics_text(State(http): State<Http>) -> impl IntoResponse {
    let dir = Arc::clone(&http.data_dir);
    // A directory being compacted may lose a file between listing and reading it: that scrape
    // then has no size rather than a wrong one.
    let size = tokio::task::spawn_blocking(move || data_size(&dir).ok())
        .await
        .ok()
        .flatten();
    http.metrics.set_data_size(size);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        http.metrics.render(&http.raft),
    )
}

async fn ready(State(http): State<Http>) -> impl IntoResponse {
    let leader = http.raft.metrics().borrow().current_leader;
    let at = positions(&http.raft);
    let view = View {
        id: http.id,
        leader,
        applied: at.applied,
        committed: at.committed,
        leader_commit: http.contact.leader_commit(),
    };
    match readiness::decide(&view) {
        Ok(leader) => (StatusCode::OK, format!("ready; leader {leader}\n")),
        Err(not_ready) => (StatusCode::SERVICE_UNAVAILABLE, format!("{not_ready}\n")),
    }
}
