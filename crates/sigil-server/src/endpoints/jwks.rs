//! The published signing keys.

use crate::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// `/.well-known/jwks.json`.
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(state.jwks.jwks_json())
}
