//! Liveness and readiness.

use crate::AppState;
use actix_web::{HttpResponse, web};

/// `/healthz`: the process is serving HTTP.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// `/readyz`: this pod can serve (its keys are loaded) and is not draining. The grant store's
/// health is deliberately not part of it (see [`AppState::keys`]); it is the
/// `sigil_store_reachable` metric.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let ready = if state.drain.is_draining() {
        Err("draining: shutting down".to_owned())
    } else {
        state
            .keys
            .loaded()
            .map_err(|not_loaded| not_loaded.to_string())
    };
    match ready {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain")
            .body("ready\n"),
        Err(reason) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("not ready: {reason}\n")),
    }
}
