//! Liveness and readiness.

use crate::AppState;
use actix_web::{HttpResponse, web};
use sigil_core::published_keys::KeysNotLoaded;

/// `/healthz`: the process is serving HTTP.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// Why this pod does not take requests; `/readyz` names it.
#[derive(Debug, thiserror::Error)]
enum NotReady {
    /// A stop was requested: the pod finishes what it has and takes nothing new.
    #[error("draining: shutting down")]
    Draining,
    /// No signing keys were ever loaded.
    #[error(transparent)]
    NoKeys(#[from] KeysNotLoaded),
}

/// `/readyz`: this pod can serve (its keys are loaded) and is not draining. The grant store's
/// health is deliberately not part of it (see [`AppState::keys`]); it is the
/// `sigil_store_reachable` metric.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    answer(readiness(&state))
}

fn readiness(state: &AppState) -> Result<(), NotReady> {
    if state.drain.is_draining() {
        return Err(NotReady::Draining);
    }
    Ok(state.keys.loaded()?)
}

fn answer(ready: Result<(), NotReady>) -> HttpResponse {
    match ready {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain")
            .body("ready\n"),
        Err(reason) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("not ready: {reason}\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::StatusCode;

    fn body(response: HttpResponse) -> String {
        let bytes = futures::executor::block_on(actix_web::body::to_bytes(response.into_body()));
        bytes.map_or_else(
            |_| String::new(),
            |bytes| String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    #[test]
    fn the_answer_names_why_the_pod_is_not_ready() {
        let draining = answer(Err(NotReady::Draining));
        assert_eq!(draining.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body(draining), "not ready: draining: shutting down\n");
        let no_keys = answer(Err(NotReady::from(KeysNotLoaded {
            last_error: Some("loading keys from /k: not found".to_owned()),
        })));
        assert_eq!(
            body(no_keys),
            "not ready: no signing keys loaded yet: loading keys from /k: not found\n"
        );
        let ready = answer(Ok(()));
        assert_eq!(ready.status(), StatusCode::OK);
        assert_eq!(body(ready), "ready\n");
    }
}
