//! The published signing keys.

use crate::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// `/.well-known/jwks.json`, cacheable for the key source's propagation-derived max-age.
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let max_age = state.jwks.max_age().as_secs();
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={max_age}")))
        .body(state.jwks.jwks_json())
}
