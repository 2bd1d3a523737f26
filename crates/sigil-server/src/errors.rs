//! Protocol errors on the wire: RFC 6749 §5.2 JSON with the right status and headers.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use serde::Serialize;
use sigil_core::error::{ErrorChain, ErrorCode, ProtocolError};

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

/// How long a client should wait before retrying a `temporarily_unavailable` answer: about
/// as long as the grant store takes to elect a new leader.
const RETRY_AFTER_SECONDS: &str = "1";

/// Renders a protocol error. `invalid_client` is 401 with a Basic challenge, as RFC 6749 §5.2
/// and HTTP require for a 401; `temporarily_unavailable` is 503 with `Retry-After` (RFC 9110
/// §10.2.3).
pub(crate) fn error_response(error: &ProtocolError) -> HttpResponse {
    log_cause(error);
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
            HeaderValue::from_static(RETRY_AFTER_SECONDS),
        ));
    }
    response.json(ErrorBody {
        error: error.code.as_str(),
        error_description: &error.description,
    })
}

/// Logs the internal failure behind `error`, if there was one: here, once, where it leaves
/// the server (the core attaches causes and never logs them).
pub(crate) fn log_cause(error: &ProtocolError) {
    if error.cause().is_none() {
        return;
    }
    let what = if error.code == ErrorCode::TemporarilyUnavailable {
        "request deferred"
    } else {
        "request failed"
    };
    log_failure(error, what);
}

/// Logs a failed step once, as `what`: the error and, if it has one, its internal cause (the
/// whole chain). A dependency that is down is a warning; anything else an error.
pub(crate) fn log_failure(error: &ProtocolError, what: &str) {
    let cause = error.cause().map(|cause| ErrorChain(cause).to_string());
    if error.code == ErrorCode::TemporarilyUnavailable {
        tracing::warn!(%error, cause, "{what}");
    } else {
        tracing::error!(%error, cause, "{what}");
    }
}

/// Token responses and errors must not be cached (RFC 6749 §5.1).
pub(crate) fn no_store(response: &mut actix_web::HttpResponseBuilder) {
    response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    response.insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unavailable_store_is_503_with_retry_after() {
        let response = error_response(&ProtocolError::new(
            ErrorCode::TemporarilyUnavailable,
            "the grant store is unavailable; retry shortly",
        ));
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from_static("1"))
        );
        let other = error_response(&ProtocolError::server_error());
        assert_eq!(other.headers().get(header::RETRY_AFTER), None);
    }

    #[test]
    fn an_internal_cause_is_logged_once_with_its_chain_and_never_sent() {
        let failing_store = sigil_core::store::StoreError::internal_from(
            "syncing the grant store",
            std::io::Error::other("disk full"),
        );
        let error = ProtocolError::from(failing_store);
        let (response, log) = crate::test_log::logged(|| error_response(&error));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(
            log.contains("grant store failure: syncing the grant store: disk full"),
            "{log}"
        );
        assert_eq!(log.matches("disk full").count(), 1, "{log}");
        let body = actix_web::body::to_bytes(response.into_body());
        let body = futures::executor::block_on(body).map_err(|_| "unreadable body");
        assert_eq!(
            body.as_deref(),
            Ok(&br#"{"error":"server_error","error_description":"the server could not complete the request"}"#[..])
        );
    }

    #[test]
    fn an_error_without_a_cause_logs_nothing() {
        let (_, log) = crate::test_log::logged(|| {
            error_response(&ProtocolError::invalid_request("no grant_type"))
        });
        assert_eq!(log, "");
    }
}
