//! `POST /connect/token`.

use super::form_error_response;
use crate::errors::{error_response, no_store};
use crate::form::{authorization, read_form};
use crate::{AppState, audit};
use actix_web::{HttpRequest, HttpResponse, web};
use sigil_core::time::Timestamp;

/// The token endpoint.
pub async fn token(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let params = match read_form(&request, payload, &["resource"]).await {
        Ok(params) => params,
        Err(error) => return form_error_response(error),
    };
    let authorization = match authorization(&request) {
        Ok(value) => value,
        Err(error) => return error_response(&error),
    };
    match state
        .provider
        .token(authorization, &params, Timestamp::now())
        .await
    {
        Ok(issued) => {
            state
                .metrics
                .tokens_issued
                .with_label_values(&[issued.grant_type.as_str(), issued.client_id.as_str()])
                .inc();
            audit::token_issued(
                &issued.client_id,
                &issued.grant_type,
                issued.response.scope.as_deref(),
            );
            let mut response = HttpResponse::Ok();
            no_store(&mut response);
            response.json(&issued.response)
        }
        Err(failure) => {
            state
                .metrics
                .token_errors
                .with_label_values(&[failure.error.code.as_str()])
                .inc();
            if failure.auth_failure.is_some() {
                state
                    .metrics
                    .client_auth_failures
                    .with_label_values(&["token"])
                    .inc();
            }
            audit::request_failed("token", &failure);
            error_response(&failure.error)
        }
    }
}
