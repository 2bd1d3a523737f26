//! `POST /connect/token`.

use super::{FormRequest, failed, read_request};
use crate::cors::request_origin;
use crate::errors::no_store;
use crate::{AppState, audit};
use actix_web::{HttpRequest, HttpResponse, web};
use sigil_core::time::Timestamp;

/// The token endpoint.
pub async fn token(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let FormRequest {
        params,
        authorization,
    } = match read_request(&request, payload, &["resource"]).await {
        Ok(parsed) => parsed,
        Err(response) => return response,
    };
    match state
        .services
        .tokens
        .token(
            authorization,
            request_origin(&request),
            &params,
            Timestamp::now(),
        )
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
            failed(&state, "token", &failure)
        }
    }
}
