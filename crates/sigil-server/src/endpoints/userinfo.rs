//! `GET|POST /connect/userinfo` (OIDC Core §5.3), with RFC 6750 bearer errors.

use crate::AppState;
use crate::errors::{error_response, no_store};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use sigil_core::error::{ErrorCode, ProtocolError};
use sigil_core::time::Timestamp;

/// The userinfo endpoint. The access token comes in the `Authorization: Bearer` header.
pub async fn userinfo(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let Some(token) = bearer_token(&request) else {
        let mut response = HttpResponse::Unauthorized();
        response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        no_store(&mut response);
        return response.finish();
    };
    match state
        .services
        .inspector
        .userinfo(token, Timestamp::now())
        .await
    {
        Ok(claims) => {
            let mut response = HttpResponse::Ok();
            no_store(&mut response);
            response.json(claims)
        }
        Err(error) => bearer_error(&error),
    }
}

fn bearer_token(request: &HttpRequest) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty())
}

/// RFC 6750 §3: the error in `WWW-Authenticate`, and in the body for convenience. Other
/// errors (`temporarily_unavailable` with its `Retry-After`, `server_error`) are rendered as
/// every endpoint renders them.
fn bearer_error(error: &ProtocolError) -> HttpResponse {
    let mut response = error_response(error);
    if matches!(
        error.code,
        ErrorCode::InvalidRequest | ErrorCode::InvalidToken | ErrorCode::InsufficientScope
    ) {
        let challenge = format!(
            "Bearer error=\"{}\", error_description=\"{}\"",
            error.code.as_str(),
            error.description.replace(['"', '\\'], "'")
        );
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}
