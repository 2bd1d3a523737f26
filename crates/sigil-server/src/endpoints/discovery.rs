//! The discovery documents.

use crate::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// `/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`.
pub async fn metadata(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(state.discovery.document())
}
