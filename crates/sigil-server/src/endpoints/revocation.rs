//! `POST /connect/revocation` (RFC 7009).

use super::failed;
use crate::cors::request_origin;
use crate::errors::no_store;
use crate::extract::ClientForm;
use crate::{AppState, audit};
use actix_web::{HttpRequest, HttpResponse, web};
use sigil_core::time::Timestamp;

/// The revocation endpoint: 200 with an empty body whether or not the token was live.
pub async fn revoke(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: ClientForm,
) -> HttpResponse {
    match state
        .services
        .inspector
        .revoke(
            form.authorization(),
            request_origin(&request),
            &form.params,
            Timestamp::now(),
        )
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
        Err(failure) => failed(&state, "revocation", &failure),
    }
}
