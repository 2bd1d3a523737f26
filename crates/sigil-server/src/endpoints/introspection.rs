//! `POST /connect/introspect` (RFC 7662).

use super::form_error_response;
use crate::errors::{error_response, no_store};
use crate::form::{authorization, read_form};
use crate::{AppState, audit};
use actix_web::{HttpRequest, HttpResponse, web};
use sigil_core::time::Timestamp;

/// The introspection endpoint.
pub async fn introspect(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let params = match read_form(&request, payload, &[]).await {
        Ok(params) => params,
        Err(error) => return form_error_response(error),
    };
    let authorization = match authorization(&request) {
        Ok(value) => value,
        Err(error) => return error_response(&error),
    };
    match state
        .provider
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
        Err(failure) => {
            if failure.auth_failure.is_some() {
                state
                    .metrics
                    .client_auth_failures
                    .with_label_values(&["introspection"])
                    .inc();
            }
            audit::request_failed("introspection", &failure);
            error_response(&failure.error)
        }
    }
}
