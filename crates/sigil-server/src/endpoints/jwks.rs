//! The published signing keys.

use crate::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// Seconds a validator is asked to wait before asking again while no key is loaded.
const RETRY_AFTER_SECS: u32 = 5;

/// `/.well-known/jwks.json`, cacheable for the key source's propagation-derived max-age.
///
/// Until keys are loaded (a pod started before its key source answered) there is nothing
/// true to publish, and an empty set would be cached by validators as "this issuer has no
/// keys": the answer is `503` with `Cache-Control: no-store`, which validators treat as a
/// failed fetch and retry.
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let Some(jwks) = state.keys.jwks_json() else {
        return HttpResponse::ServiceUnavailable()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS.to_string()))
            .json(serde_json::json!({
                "error": "temporarily_unavailable",
                "error_description": "no signing keys are loaded yet",
            }));
    };
    let max_age = state.jwks_max_age.as_secs();
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")))
        .body(jwks)
}
