//! One file per endpoint. Each parses, calls the provider, renders, records — nothing else.

pub mod account;
pub mod authorize;
pub mod discovery;
pub mod end_session;
pub mod health;
pub mod introspection;
pub mod jwks;
pub mod metrics;
pub mod revocation;
pub mod token;
pub mod userinfo;

use crate::errors::error_response;
use crate::form::{FormError, authorization, read_form};
use crate::{AppState, audit};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use sigil_core::endpoint::Failure;
use sigil_core::error::ProtocolError;
use sigil_core::parameters::Parameters;

/// What every form endpoint reads: its parameters and the `Authorization` header.
pub(crate) struct FormRequest<'r> {
    pub params: Parameters,
    pub authorization: Option<&'r str>,
}

/// Reads a form request; on failure, the response to send.
pub(crate) async fn read_request<'r>(
    request: &'r HttpRequest,
    payload: web::Payload,
    repeatable: &[&str],
) -> Result<FormRequest<'r>, HttpResponse> {
    let params = read_form(request, payload, repeatable)
        .await
        .map_err(form_error_response)?;
    let authorization = authorization(request).map_err(|error| error_response(&error))?;
    Ok(FormRequest {
        params,
        authorization,
    })
}

/// Records a failed request at `endpoint` (metrics, audit) and renders its error.
pub(crate) fn failed(state: &AppState, endpoint: &'static str, failure: &Failure) -> HttpResponse {
    if let Some(auth_failure) = &failure.auth_failure {
        let counter = if auth_failure.is_decided() {
            &state.metrics.client_auth_failures
        } else {
            &state.metrics.client_auth_deferred
        };
        counter.with_label_values(&[endpoint]).inc();
    }
    audit::request_failed(endpoint, failure);
    error_response(&failure.error)
}

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
        FormError::TimedOut => {
            // RFC 9110 §15.5.9: the server would not wait any longer, and closes the
            // connection (what is left of the body would be read as the next request).
            let mut response = error_response(&ProtocolError::invalid_request(
                "the request body did not arrive in time",
            ));
            *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
            response
                .head_mut()
                .set_connection_type(ConnectionType::Close);
            response
        }
    }
}

/// 405 for a method a resource does not serve, with the `Allow` header RFC 9110 §15.5.6
/// requires (`allow`: the methods it does serve, such as `"GET, HEAD"`).
pub fn method_not_allowed(allow: &'static str) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((actix_web::http::header::ALLOW, allow))
        .json(serde_json::json!({
            "error": "invalid_request",
            "error_description": format!("this endpoint accepts {allow} only"),
        }))
}
