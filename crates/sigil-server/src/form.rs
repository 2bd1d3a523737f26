//! Reading a form-encoded request body: content type checked, size and time limited, then
//! parsed by the core's strict parser. Every failure is a [`Rejection`], never a 500. Handlers
//! do not call this: they take the extractors in [`crate::extract`].

use crate::extract::Rejection;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{HttpRequest, web};
use futures::StreamExt as _;
use sigil_core::error::ProtocolError;
use sigil_core::parameters::Parameters;
use std::time::Duration;

/// Larger than any legitimate token, introspection or revocation request (a client assertion
/// signed with RSA-4096 is under 2 KiB).
pub(crate) const MAX_FORM_BYTES: usize = 64 * 1024;

/// How long a form body may take to arrive once its handler starts reading it (just after
/// the request head). Without a deadline, a client announcing 60,000 bytes and sending one
/// every few seconds held its connection, and a file descriptor, for ever. Register it with
/// `App::app_data`; without it, [`BodyDeadline::default`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyDeadline(pub Duration);

impl Default for BodyDeadline {
    /// Ten seconds: a form of a few KiB arrives in milliseconds even on a poor mobile link.
    fn default() -> Self {
        Self(Duration::from_secs(10))
    }
}

/// Reads and parses the body. Names in `repeatable` may appear more than once.
pub(crate) async fn read_form(
    request: &HttpRequest,
    payload: Payload,
    repeatable: &[&str],
) -> Result<Parameters, Rejection> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(Rejection::Invalid(ProtocolError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        )));
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > MAX_FORM_BYTES) {
        return Err(Rejection::TooLarge);
    }
    let deadline = request
        .app_data::<BodyDeadline>()
        .copied()
        .unwrap_or_default();
    let body = tokio::time::timeout(deadline.0, read_body(payload, declared))
        .await
        .map_err(|_| Rejection::TimedOut)??;
    Parameters::parse(&body, repeatable).map_err(Rejection::Invalid)
}

async fn read_body(
    mut payload: Payload,
    declared: Option<usize>,
) -> Result<web::BytesMut, Rejection> {
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(512).min(MAX_FORM_BYTES));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            Rejection::Invalid(ProtocolError::invalid_request("the body could not be read"))
        })?;
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            return Err(Rejection::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The `Authorization` header, if present; one that is not visible ASCII is treated as
/// malformed credentials, and two are refused.
pub(crate) fn authorization(request: &HttpRequest) -> Result<Option<&str>, ProtocolError> {
    let mut values = request.headers().get_all(header::AUTHORIZATION);
    let first = values.next();
    if values.next().is_some() {
        return Err(ProtocolError::invalid_request(
            "more than one Authorization header",
        ));
    }
    match first {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(Some)
            .map_err(|_| ProtocolError::invalid_client()),
    }
}
