//! `POST /connect/token`.

use super::failed;
use crate::cors::request_origin;
use crate::errors::no_store;
use crate::extract::{ClientForm, ResourceRepeats};
use crate::{AppState, audit};
use actix_web::{HttpRequest, HttpResponse, web};
use sigil_core::time::Timestamp;

/// The token endpoint.
pub async fn token(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: ClientForm<ResourceRepeats>,
) -> HttpResponse {
    match state
        .services
        .tokens
        .token(
            form.authorization(),
            request_origin(&request),
            &form.params,
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
