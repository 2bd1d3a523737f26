//! Protocol errors on the wire: RFC 6749 §5.2 JSON with the right status and headers.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use serde::Serialize;
use sigil_core::error::{ErrorCode, ProtocolError};

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

/// How long a client is asked to wait before retrying a `temporarily_unavailable` (503).
const RETRY_AFTER_SECS: &str = "1";

/// Renders a protocol error. `invalid_client` is 401 with a Basic challenge, as RFC 6749 §5.2
/// and HTTP require for a 401; `temporarily_unavailable` is 503 with `Retry-After` (RFC 9110
/// §10.2.3), which HTTP clients and gateways honour when they retry.
pub(crate) fn error_response(error: &ProtocolError) -> HttpResponse {
    let status = StatusCode::from_u16(error.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = HttpResponse::build(status);
    no_store(&mut response);
    if error.code == ErrorCode::InvalidClient {
        response.insert_header((
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"sigil\""),
        ));
    }
    if error.code == ErrorCode::TemporarilyUnavailable {
        response.insert_header((
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        ));
    }
    response.json(ErrorBody {
        error: error.code.as_str(),
        error_description: &error.description,
    })
}

/// Token responses and errors must not be cached (RFC 6749 §5.1).
pub(crate) fn no_store(response: &mut actix_web::HttpResponseBuilder) {
    response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    response.insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")));
}
