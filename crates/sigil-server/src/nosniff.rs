//! `X-Content-Type-Options: nosniff` on every response the app produces, errors included, so
//! that no browser second-guesses a declared type and renders a JSON error or a metrics page
//! as HTML.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderValue, X_CONTENT_TYPE_OPTIONS};
use actix_web::middleware::Next;

const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");

/// Middleware: adds the header to the response, or to the one an error renders as.
pub async fn nosniff(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    match next.call(request).await {
        Ok(mut response) => {
            response
                .headers_mut()
                .insert(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
            Ok(response)
        }
        Err(error) => {
            let mut rendered = error.error_response();
            rendered
                .headers_mut()
                .insert(X_CONTENT_TYPE_OPTIONS, NOSNIFF);
            Err(InternalError::from_response(error, rendered).into())
        }
    }
}
