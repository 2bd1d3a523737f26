//! Reading requests as actix extractors, so a handler's arguments say what it reads and a
//! handler never starts with a reading prelude.
//!
//! [`Form`] is a form-encoded body (size- and time-limited, strictly parsed); [`ClientForm`]
//! adds the `Authorization` header a client authenticates with (token, introspection and
//! revocation). Which parameters may repeat is a type ([`NoRepeats`], [`ResourceRepeats`]). A
//! request that cannot be read is a [`Rejection`], which renders itself as the RFC 6749 §5.2
//! error every endpoint sends (with 413 or 408 for a body too large or too slow).

use crate::errors::error_response;
use crate::form::{authorization, read_form};
use actix_web::dev::Payload;
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};
use futures::future::LocalBoxFuture;
use sigil_core::error::ProtocolError;
use sigil_core::parameters::Parameters;
use std::marker::PhantomData;

/// Why a request could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// A protocol-level problem: not a form, a malformed or repeated parameter, a bad
    /// `Authorization` header.
    #[error(transparent)]
    Invalid(#[from] ProtocolError),
    /// The body is larger than the form limit (`MAX_FORM_BYTES`).
    #[error("the request body is too large")]
    TooLarge,
    /// The body did not arrive within the [`crate::BodyDeadline`].
    #[error("the request body did not arrive in time")]
    TimedOut,
}

impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Invalid(error) => {
                StatusCode::from_u16(error.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
            }
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TimedOut => StatusCode::REQUEST_TIMEOUT,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let error = match self {
            Self::Invalid(error) => return error_response(error),
            other => ProtocolError::invalid_request(other.to_string()),
        };
        let mut response = error_response(&error);
        *response.status_mut() = self.status_code();
        if matches!(self, Self::TimedOut) {
            // RFC 9110 §15.5.9: the server would not wait any longer, and closes the
            // connection (what is left of the body would be read as the next request).
            response
                .head_mut()
                .set_connection_type(ConnectionType::Close);
        }
        response
    }
}

/// Which parameters of a form may appear more than once; all others must not repeat.
pub trait Repeatable {
    /// Their names.
    const NAMES: &'static [&'static str];
}

/// No parameter repeats.
pub struct NoRepeats;

impl Repeatable for NoRepeats {
    const NAMES: &'static [&'static str] = &[];
}

/// `resource` repeats (RFC 8707 §2): token and authorization requests.
pub struct ResourceRepeats;

impl Repeatable for ResourceRepeats {
    const NAMES: &'static [&'static str] = &["resource"];
}

/// A form-encoded body, read and parsed.
pub struct Form<R = NoRepeats> {
    /// The parameters.
    pub params: Parameters,
    repeatable: PhantomData<R>,
}

impl<R: Repeatable> FromRequest for Form<R> {
    type Error = Rejection;
    type Future = LocalBoxFuture<'static, Result<Self, Rejection>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let request = request.clone();
        let payload = payload.take();
        Box::pin(async move {
            let params = read_form(&request, payload, R::NAMES).await?;
            Ok(Self {
                params,
                repeatable: PhantomData,
            })
        })
    }
}

/// A client's request to a protocol endpoint: the form, then the `Authorization` header
/// (read in that order, so a bad body is reported before a bad header).
pub struct ClientForm<R = NoRepeats> {
    /// The parameters.
    pub params: Parameters,
    /// The `Authorization` header, if there is one.
    pub authorization: Option<String>,
    repeatable: PhantomData<R>,
}

impl<R> ClientForm<R> {
    /// The `Authorization` header as the core takes it.
    pub fn authorization(&self) -> Option<&str> {
        self.authorization.as_deref()
    }
}

impl<R: Repeatable> FromRequest for ClientForm<R> {
    type Error = Rejection;
    type Future = LocalBoxFuture<'static, Result<Self, Rejection>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let request = request.clone();
        let payload = payload.take();
        Box::pin(async move {
            let params = read_form(&request, payload, R::NAMES).await?;
            let authorization = authorization(&request)?.map(str::to_owned);
            Ok(Self {
                params,
                authorization,
                repeatable: PhantomData,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;
    use actix_web::http::header;
    use actix_web::test::TestRequest;

    const FORM: &str = "application/x-www-form-urlencoded";

    async fn client_form<R: Repeatable>(request: TestRequest) -> Result<ClientForm<R>, Rejection> {
        let (request, mut payload) = request.to_http_parts();
        ClientForm::<R>::from_request(&request, &mut payload).await
    }

    async fn rendered(rejection: Rejection) -> (StatusCode, serde_json::Value, HttpResponse<()>) {
        let response = rejection.error_response();
        let status = response.status();
        let (response, body) = response.into_parts();
        let bytes = to_bytes(body).await.unwrap_or_default();
        let json = serde_json::from_slice(&bytes).unwrap_or_default();
        (status, json, response)
    }

    #[actix_web::test]
    async fn reads_the_form_and_the_authorization_header() {
        let request = TestRequest::post()
            .insert_header((header::CONTENT_TYPE, FORM))
            .insert_header((header::AUTHORIZATION, "Basic YTpi"))
            .set_payload("grant_type=client_credentials&resource=a&resource=b");
        let form = client_form::<ResourceRepeats>(request).await;
        let form = form.unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(form.params.get("grant_type"), Some("client_credentials"));
        assert_eq!(form.params.all("resource").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(form.authorization(), Some("Basic YTpi"));
    }

    #[actix_web::test]
    async fn a_repeated_parameter_is_refused_unless_its_type_allows_it() {
        let request = || {
            TestRequest::post()
                .insert_header((header::CONTENT_TYPE, FORM))
                .set_payload("resource=a&resource=b")
        };
        assert!(client_form::<ResourceRepeats>(request()).await.is_ok());
        let Err(rejection) = client_form::<NoRepeats>(request()).await else {
            panic!("a repeated parameter was accepted");
        };
        let (status, body, _) = rendered(rejection).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_request");
    }

    #[actix_web::test]
    async fn a_bad_body_is_reported_before_a_bad_header() {
        let two_headers = TestRequest::post()
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .append_header((header::AUTHORIZATION, "Basic YTpi"))
            .append_header((header::AUTHORIZATION, "Basic YzpK"))
            .set_payload("{}");
        let Err(rejection) = client_form::<NoRepeats>(two_headers).await else {
            panic!("a JSON body was accepted");
        };
        let (_, body, _) = rendered(rejection).await;
        assert_eq!(
            body["error_description"],
            "the body must be application/x-www-form-urlencoded"
        );
        let two_headers = TestRequest::post()
            .insert_header((header::CONTENT_TYPE, FORM))
            .append_header((header::AUTHORIZATION, "Basic YTpi"))
            .append_header((header::AUTHORIZATION, "Basic YzpK"))
            .set_payload("a=b");
        let Err(rejection) = client_form::<NoRepeats>(two_headers).await else {
            panic!("two Authorization headers were accepted");
        };
        let (status, body, _) = rendered(rejection).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body["error_description"],
            "more than one Authorization header"
        );
    }

    #[actix_web::test]
    async fn rejections_render_as_protocol_errors_with_their_status() {
        let (status, body, head) = rendered(Rejection::TooLarge).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            body,
            serde_json::json!({
                "error": "invalid_request",
                "error_description": "the request body is too large",
            })
        );
        assert_eq!(
            head.headers()
                .get(header::CACHE_CONTROL)
                .map(|v| v.as_bytes()),
            Some(&b"no-store"[..])
        );
        assert_ne!(head.head().connection_type(), ConnectionType::Close);

        let (status, body, head) = rendered(Rejection::TimedOut).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(
            body["error_description"],
            "the request body did not arrive in time"
        );
        assert_eq!(head.head().connection_type(), ConnectionType::Close);

        let (status, _, head) = rendered(Rejection::Invalid(ProtocolError::invalid_client())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            head.headers()
                .get(header::WWW_AUTHENTICATE)
                .map(|v| v.as_bytes()),
            Some(&b"Basic realm=\"sigil\""[..])
        );
    }
}
