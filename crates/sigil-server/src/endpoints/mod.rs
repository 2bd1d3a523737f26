//! One file per endpoint. Each parses, calls the provider, renders, records — nothing else.

pub mod discovery;
pub mod health;
pub mod introspection;
pub mod jwks;
pub mod metrics;
pub mod revocation;
pub mod token;

use crate::errors::error_response;
use crate::form::FormError;
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use sigil_core::error::ProtocolError;

/// The response for a body that could not be read.
pub(crate) fn form_error_response(error: FormError) -> HttpResponse {
    match error {
        FormError::Invalid(error) => error_response(&error),
        FormError::TooLarge => {
            let mut response = error_response(&ProtocolError::invalid_request(
                "the request body is too large",
            ));
            *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            response
        }
    }
}

/// 405 for a method an endpoint does not serve.
pub async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((actix_web::http::header::ALLOW, "POST"))
        .json(serde_json::json!({
            "error": "invalid_request",
            "error_description": "this endpoint accepts POST only",
        }))
}
