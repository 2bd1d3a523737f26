//! `POST /connect/revocation` (RFC 7009).

use super::form_error_response;
use crate::errors::{error_response, no_store};
use crate::form::{authorization, read_form};
use crate::{AppState, audit};
use actix_web::{HttpRequest, HttpResponse, web};
use sigil_core::time::Timestamp;

/// The revocation endpoint: 200 with an empty body whether or not the token was live.
pub async fn revoke(
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
        .revoke(authorization, &params, Timestamp::now())
        .await
    {
        Ok(outcome) => {
            if outcome.revoked {
                state
                    .metrics
                    .tokens_revoked
                    .with_label_values(&[outcome.client_id.as_str()])
                    .inc();
                audit::token_revoked(&outcome.client_id);
            }
            let mut response = HttpResponse::Ok();
            no_store(&mut response);
            response.finish()
        }
        Err(failure) => {
            if failure.auth_failure.is_some() {
                state
                    .metrics
                    .client_auth_failures
                    .with_label_values(&["revocation"])
                    .inc();
            }
            audit::request_failed("revocation", &failure);
            error_response(&failure.error)
        }
    }
}
