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

/// Renders a protocol error. `invalid_client` is 401 with a Basic challenge, as RFC 6749 §5.2
/// and HTTP require for a 401.
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
