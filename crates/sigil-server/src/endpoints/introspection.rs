//! `POST /connect/introspect` (RFC 7662).

use super::failed;
use crate::AppState;
use crate::errors::no_store;
use crate::extract::ClientForm;
use actix_web::{HttpResponse, web};
use sigil_core::time::Timestamp;

/// The introspection endpoint.
pub async fn introspect(state: web::Data<AppState>, form: ClientForm) -> HttpResponse {
    match state
        .services
        .inspector
        .introspect(form.authorization(), &form.params, Timestamp::now())
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
