//! The plain HTTP endpoints served on the gRPC port: `GET /metrics` (Prometheus text),
//! `GET /healthz` (the process is up) and `GET /readyz` (200 once this node knows a leader,
//! 503 before).

use super::metrics::{NodeMetrics, data_size};
use crate::types::StoreRaft;
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
    metrics: Arc<NodeMetrics>,
    /// The node's data directory, measured for `sigil_store_data_size_bytes` at each scrape.
    data_dir: Arc<PathBuf>,
}

/// Adds the HTTP endpoints to `router` (the gRPC services' router).
pub fn routes(
    router: Router,
    raft: StoreRaft,
    metrics: Arc<NodeMetrics>,
    data_dir: PathBuf,
) -> Router {
    let endpoints = Router::new()
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(Http {
            raft,
            metrics,
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
    match leader {
        Some(leader) => (StatusCode::OK, format!("ready; leader {leader}\n")),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "no leader known\n".to_owned(),
        ),
    }
}
