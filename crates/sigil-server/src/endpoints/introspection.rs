//! `POST /connect/introspect` (RFC 7662).

use super::{FormRequest, failed, read_request};
use crate::AppState;
use crate::errors::no_store;
use actix_web::{HttpRequest, HttpResponse, web};
use sigil_core::time::Timestamp;

/// The introspection endpoint.
pub async fn introspect(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let FormRequest {
        params,
        authorization,
    } = match read_request(&request, payload, &[]).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    match state
        .services
        .inspector
        .introspect(authorization, &params, Timestamp::now())
        .await
    {
        Ok(answer) => {
            let active = if answer.response.active {
                "true"
            } else {
                "false"
            };
            state
                .metrics
                .introspections
                .with_label_values(&[active])
                .inc();
            let mut response = HttpResponse::Ok();
            no_store(&mut response);
            response.json(&answer.response)
        }
        Err(failure) => failed(&state, "introspection", &failure),
    }
}
