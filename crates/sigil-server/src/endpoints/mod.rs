//! One file per endpoint. Each takes its request through an extractor ([`crate::extract`]),
//! calls the core, renders, records — nothing else. Endpoints do not import each other: what
//! the browser-facing ones share is in [`crate::signin`] (the request in flight between pages,
//! cookies, CSRF tokens, and every browser response in [`crate::signin::responses`]).

pub mod account;
pub mod authorize;
pub mod discovery;
pub mod end_session;
pub mod health;
pub mod introspection;
pub mod jwks;
pub mod metrics;
pub mod revocation;
pub mod token;
pub mod userinfo;

use crate::errors::error_response;
use crate::{AppState, audit};
use actix_web::HttpResponse;
use sigil_core::endpoint::Failure;

/// Records a failed request at `endpoint` (metrics, audit) and renders its error.
pub(crate) fn failed(state: &AppState, endpoint: &'static str, failure: &Failure) -> HttpResponse {
    if let Some(auth_failure) = &failure.auth_failure {
        let counter = if auth_failure.is_decided() {
            &state.metrics.client_auth_failures
        } else {
            &state.metrics.client_auth_deferred
        };
        counter.with_label_values(&[endpoint]).inc();
    }
    audit::request_failed(endpoint, failure);
    error_response(&failure.error)
}

/// 405 for a method a resource does not serve, with the `Allow` header RFC 9110 §15.5.6
/// requires (`allow`: the methods it does serve, such as `"GET, HEAD"`).
pub fn method_not_allowed(allow: &'static str) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((actix_web::http::header::ALLOW, allow))
        .json(serde_json::json!({
            "error": "invalid_request",
            "error_description": format!("this endpoint accepts {allow} only"),
        }))
}
