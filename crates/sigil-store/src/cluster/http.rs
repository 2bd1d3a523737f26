//! The plain HTTP endpoints served on the gRPC port: `GET /metrics` (Prometheus text),
//! `GET /healthz` (the process is up) and `GET /readyz` (200 once this node knows a leader,
//! 503 before).

use super::metrics::NodeMetrics;
use crate::types::StoreRaft;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::sync::Arc;

#[derive(Clone)]
struct Http {
    raft: StoreRaft,
    metrics: Arc<NodeMetrics>,
}

/// Adds the HTTP endpoints to `router` (the gRPC services' router).
pub fn routes(router: Router, raft: StoreRaft, metrics: Arc<NodeMetrics>) -> Router {
    let endpoints = Router::new()
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(Http { raft, metrics });
    router.merge(endpoints)
}

async fn metrics_text(State(http): State<Http>) -> impl IntoResponse {
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
