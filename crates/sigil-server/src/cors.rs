//! CORS (the Fetch standard's CORS protocol) for the endpoints that browser apps on other
//! origins call with `fetch`: discovery, JWKS, token, userinfo, revocation and end-session.
//!
//! - **Discovery and JWKS are public documents**: every response carries
//!   `Access-Control-Allow-Origin: *`, whatever the `Origin`. They hold nothing a script on
//!   any origin could not fetch through a server anyway, OIDC libraries in browsers read
//!   them before they know which client they are, and a constant header keeps them cacheable
//!   by shared caches without `Vary`.
//! - **Token, userinfo, revocation and end-session** answer only an origin that some
//!   client registered (`allowed_cors_origins`, compared character for character with the
//!   `Origin` header): `Access-Control-Allow-Origin` names that origin, errors included, so an
//!   app can read why its request failed; `Vary: Origin` is on every response of these
//!   routes, since what they carry depends on it. Whether the origin may act for the client
//!   that authenticated is decided at the token and revocation endpoints themselves
//!   (`sigil-core`'s `endpoint::browser_origin`), before anything is consumed.
//! - **Never credentials.** `Access-Control-Allow-Credentials` is never sent: these endpoints
//!   take bearer tokens and form bodies, not cookies, so a script never reads a page of a
//!   signed-in user (a cross-origin `fetch` to end-session carries no cookie and ends no
//!   session; apps sign out by navigating there).
//! - A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered
//!   here, before routing: `204` with the methods and headers allowed, or `403` without CORS
//!   headers for an origin no client registered (the browser then blocks the request).
//!
//! The authorization endpoint, the login and consent pages (top-level navigations) and
//! introspection (for APIs, which are not browsers) get no CORS at all.

use crate::AppState;
use crate::discovery::EndpointPaths;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};

/// How long a browser may cache a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";
/// What scripts may send besides the CORS-safelisted headers.
const ALLOWED_HEADERS: &str = "Authorization, Content-Type";
/// Response headers scripts may read besides the safelisted ones: a 401's challenge
/// (`WWW-Authenticate`, RFC 6750 §3) and when to retry (`Retry-After`).
const EXPOSED_HEADERS: &str = "WWW-Authenticate, Retry-After";

/// Who may read a route's responses from another origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// Every origin (`*`, without credentials).
    Everyone,
    /// Origins some client registered; the route serves these methods.
    RegisteredOrigins { methods: &'static str },
}

/// The CORS audience of `path`, if it has one.
fn audience(path: &str) -> Option<Audience> {
    let registered = |methods| Some(Audience::RegisteredOrigins { methods });
    match path {
        EndpointPaths::OPENID_CONFIGURATION
        | EndpointPaths::AUTHORIZATION_SERVER
        | EndpointPaths::JWKS => Some(Audience::Everyone),
        EndpointPaths::TOKEN | EndpointPaths::REVOCATION => registered("POST"),
        EndpointPaths::USERINFO | EndpointPaths::END_SESSION => registered("GET, POST"),
        _ => None,
    }
}

/// The `Origin` a browser sent with `request`, if any. A header that is not visible ASCII
/// is still an origin, one that no client registered.
pub(crate) fn request_origin(request: &HttpRequest) -> Option<&str> {
    request
        .headers()
        .get(header::ORIGIN)
        .map(|value| value.to_str().unwrap_or_default())
}

/// Middleware: answers preflights and adds CORS headers to the responses of the routes
/// above (see the module docs). Other routes pass through untouched.
pub async fn cors(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(audience) = audience(request.path()) else {
        return next
            .call(request)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .cloned()
        .filter(|origin| allows(&request, audience, origin));
    if is_preflight(&request) {
        let answer = preflight(audience, origin);
        return Ok(request.into_response(answer).map_into_right_body());
    }
    let mut response = next.call(request).await?;
    let headers = response.headers_mut();
    match (audience, origin) {
        (Audience::Everyone, _) => {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            );
        }
        (Audience::RegisteredOrigins { .. }, origin) => {
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
            if let Some(origin) = origin {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
                headers.insert(
                    header::ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static(EXPOSED_HEADERS),
                );
            }
        }
    }
    Ok(response.map_into_left_body())
}

/// True if `origin` may read responses of a route for `audience`.
fn allows(request: &ServiceRequest, audience: Audience, origin: &HeaderValue) -> bool {
    match audience {
        Audience::Everyone => true,
        Audience::RegisteredOrigins { .. } => {
            let registered = |state: &web::Data<AppState>| {
                origin
                    .to_str()
                    .is_ok_and(|origin| state.services.catalog().is_cors_origin(origin))
            };
            request
                .app_data::<web::Data<AppState>>()
                .is_some_and(registered)
        }
    }
}

/// A CORS preflight: `OPTIONS` naming the method the browser means to send.
fn is_preflight(request: &ServiceRequest) -> bool {
    let headers = request.headers();
    request.method() == Method::OPTIONS
        && headers.contains_key(header::ORIGIN)
        && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to a preflight; `origin` is the request's, if it is allowed.
fn preflight(audience: Audience, origin: Option<HeaderValue>) -> HttpResponse {
    let mut response = HttpResponse::NoContent().finish();
    let headers = response.headers_mut();
    match (audience, origin) {
        (Audience::Everyone, _) => {
            allow(headers, HeaderValue::from_static("*"), "GET", "*");
        }
        (Audience::RegisteredOrigins { methods }, Some(origin)) => {
            headers.insert(header::VARY, HeaderValue::from_static("Origin"));
            allow(headers, origin, methods, ALLOWED_HEADERS);
        }
        (Audience::RegisteredOrigins { .. }, None) => {
            *response.status_mut() = StatusCode::FORBIDDEN;
            response
                .headers_mut()
                .insert(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
    response
}

fn allow(
    headers: &mut HeaderMap,
    origin: HeaderValue,
    methods: &'static str,
    allowed: &'static str,
) {
    let pairs: [(HeaderName, HeaderValue); 4] = [
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, origin),
        (
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(methods),
        ),
        (
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(allowed),
        ),
        (
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE),
        ),
    ];
    for (name, value) in pairs {
        headers.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_endpoints_browser_apps_call_have_cors() {
        assert_eq!(
            audience("/.well-known/openid-configuration"),
            Some(Audience::Everyone)
        );
        assert_eq!(audience("/.well-known/jwks.json"), Some(Audience::Everyone));
        assert_eq!(
            audience("/connect/token"),
            Some(Audience::RegisteredOrigins { methods: "POST" })
        );
        for path in [
            "/connect/authorize",
            "/connect/authorize/continue",
            "/account/login",
            "/account/consent",
            "/connect/introspect",
            "/metrics",
            "/connect/token/",
        ] {
            assert_eq!(audience(path), None, "{path}");
        }
    }
}
