//! `/metrics` in the Prometheus text format.

use crate::AppState;
use actix_web::{HttpResponse, web};

/// Renders every registered metric.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    match state.metrics.render() {
        Ok(body) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(body),
        Err(error) => {
            tracing::error!(%error, "rendering metrics");
            HttpResponse::InternalServerError().finish()
        }
    }
}
