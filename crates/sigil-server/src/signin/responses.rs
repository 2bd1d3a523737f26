//! Every answer to a browser, in one place: HTML pages (built by [`html`], so never cached
//! and never framed), redirects, the form post to a client, error pages, the statuses that
//! ask a browser to come back later, and the rendering of an authorization step. The pages'
//! HTML is in [`super::pages`].

use super::pages;
use super::pending::seal_request;
use super::sealed::SealFailure;
use crate::AppState;
use crate::discovery::EndpointPaths;
use actix_web::HttpResponse;
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use sigil_core::authorize::{
    AuthorizationRequest, AuthorizeError, AuthorizeStep, ClientRedirect, ResponseMode,
};

/// How long a browser is asked to wait when the service is busy, in seconds.
pub const RETRY_SOON_SECONDS: u64 = 1;

/// What a page says when the grant store cannot be reached or the password checks are
/// saturated: nothing is wrong with what the user did.
pub const BUSY: &str = "The service is busy. Try again in a moment.";

/// An HTML response with the headers every page carries.
pub fn html(status: StatusCode, page: String) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    no_cache_no_frame(&mut response);
    response.insert_header((
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ),
    ));
    response.content_type("text/html; charset=utf-8").body(page)
}

fn no_cache_no_frame(response: &mut actix_web::HttpResponseBuilder) {
    response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    response.insert_header((header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")));
    response.insert_header((
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ));
}

/// OAuth 2.0 Form Post Response Mode: the page that posts `params` to the client. Its script
/// submits the form at once, so it carries no Content-Security-Policy.
pub fn form_post(redirect_uri: &str, params: &[(String, String)]) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    no_cache_no_frame(&mut response);
    response
        .content_type("text/html; charset=utf-8")
        .body(pages::form_post(redirect_uri, params))
}

/// Renders the outcome of an authorization step: on to the login or consent page, back to
/// the client, or an error page where the client cannot be trusted with the error.
pub(crate) fn render(
    state: &AppState,
    step: Result<AuthorizeStep, AuthorizeError>,
) -> HttpResponse {
    match step {
        Ok(AuthorizeStep::Login(request)) => to_page(state, EndpointPaths::LOGIN, &request),
        Ok(AuthorizeStep::Consent { request, .. }) => {
            to_page(state, EndpointPaths::CONSENT, &request)
        }
        Ok(AuthorizeStep::Respond(issued)) => respond(&issued.redirect),
        Err(AuthorizeError::Untrusted(error)) => {
            crate::errors::log_cause(&error);
            bad_request(&error.description)
        }
        Err(AuthorizeError::Redirect(redirect)) => respond(&redirect),
    }
}

/// Redirects the browser to one of the pages, carrying the sealed request.
fn to_page(state: &AppState, path: &str, request: &AuthorizationRequest) -> HttpResponse {
    match seal_request(state, request) {
        Ok(sealed) => to_continue(path, &sealed),
        Err(error) => cannot_seal("an authorization request", &error),
    }
}

/// `302 Found` to `path` with the sealed request as its `request` parameter.
pub(crate) fn to_continue(path: &str, sealed: &str) -> HttpResponse {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("request", sealed)
        .finish();
    found(&format!("{path}?{query}"))
}

/// Delivers parameters to the client: a redirect (query, fragment) or a form post. The
/// internal failure behind an error it reports is logged here, once; it never goes on the
/// wire.
fn respond(redirect: &ClientRedirect) -> HttpResponse {
    if let Some(error) = &redirect.error {
        crate::errors::log_cause(error);
    }
    match redirect.mode {
        ResponseMode::FormPost => form_post(&redirect.redirect_uri, &redirect.params),
        ResponseMode::Query | ResponseMode::Fragment => found(&redirect.location()),
    }
}

/// The page shown for a missing, tampered or expired sealed request.
pub fn expired_request() -> HttpResponse {
    bad_request(
        "This sign-in request has expired or is invalid. Go back to the application and start again.",
    )
}

/// `302 Found` to `location`, never cached.
pub fn found(location: &str) -> HttpResponse {
    redirect(StatusCode::FOUND, location)
}

/// `303 See Other` to `location`, never cached: the browser follows it with a `GET`
/// whatever the method of the request it answers (RFC 9110 §15.4.4).
pub fn see_other(location: &str) -> HttpResponse {
    redirect(StatusCode::SEE_OTHER, location)
}

/// The longest address [`same_request_as_get`] builds: proxies and load balancers refuse
/// longer request lines (nginx's default buffer for one is 8 KiB).
pub const MAX_GET_URL: usize = 8 * 1024;

/// `303 See Other` to `path` with `pairs` as its query: a posted form carried on as the same
/// request by `GET`. A browser follows it as a top-level navigation, which carries the
/// `SameSite=Lax` cookies that it kept back from a form posted by another site. `None` if
/// the address would be longer than [`MAX_GET_URL`].
pub fn same_request_as_get<'a>(
    path: &str,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Option<HttpResponse> {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let location = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    (location.len() <= MAX_GET_URL).then(|| see_other(&location))
}

fn redirect(status: StatusCode, location: &str) -> HttpResponse {
    match HeaderValue::from_str(location) {
        Ok(value) => HttpResponse::build(status)
            .insert_header((header::LOCATION, value))
            .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .finish(),
        Err(_) => bad_request("the redirect address is not valid"),
    }
}

/// A 400 page for a request that cannot be answered at the client's redirect URI.
pub fn bad_request(description: &str) -> HttpResponse {
    html(
        StatusCode::BAD_REQUEST,
        pages::error("The request cannot be completed", description),
    )
}

/// The 400 page for a form post whose CSRF token does not check out.
pub fn csrf_failed() -> HttpResponse {
    bad_request(
        "The form was not submitted from this site, or it is too old. Go back and try again.",
    )
}

/// A 500 page, for what the user cannot fix by trying again soon (log the cause first).
pub fn server_error_page() -> HttpResponse {
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        pages::error(
            "Something went wrong",
            "The server could not complete the request. Try again shortly.",
        ),
    )
}

/// The answer when a value for the browser (a cookie, a CSRF token, a request in flight)
/// could not be sealed; logs why. While no session secret is loaded yet (a pod whose key
/// source is still empty) the browser is asked to come back (503, `Retry-After`); anything
/// else is a 500.
pub fn cannot_seal(what: &str, error: &SealFailure) -> HttpResponse {
    match error {
        SealFailure::NoSecret => {
            tracing::warn!(%error, "cannot seal {what} yet");
            unavailable(html(StatusCode::OK, pages::error("Not ready yet", BUSY)))
        }
        error => {
            tracing::error!(error = ?error, "sealing {what}");
            server_error_page()
        }
    }
}

/// `page` as `503 Service Unavailable` with `Retry-After`: for a page that says [`BUSY`]
/// and offers its form again.
pub fn unavailable(page: HttpResponse) -> HttpResponse {
    retry_later(page, StatusCode::SERVICE_UNAVAILABLE, RETRY_SOON_SECONDS)
}

/// Gives a page a `status` that asks to come back later (`429 Too Many Requests`, RFC 6585
/// §4, or `503 Service Unavailable`) and `Retry-After` in seconds (RFC 9110 §10.2.3).
pub fn retry_later(mut page: HttpResponse, status: StatusCode, retry_after: u64) -> HttpResponse {
    *page.status_mut() = status;
    page.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    page
}

/// `response` with `cookie` set, if there is one.
pub fn with_cookie(mut response: HttpResponse, cookie: Option<Cookie<'static>>) -> HttpResponse {
    if let Some(cookie) = cookie {
        if let Err(error) = response.add_cookie(&cookie) {
            tracing::error!(%error, "setting a cookie");
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pod_without_a_session_secret_yet_asks_the_browser_to_come_back() {
        let early = cannot_seal("a CSRF token", &SealFailure::NoSecret);
        assert_eq!(early.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            early.headers().get(header::RETRY_AFTER),
            Some(&HeaderValue::from(RETRY_SOON_SECONDS))
        );
        let broken = cannot_seal(
            "a CSRF token",
            &SealFailure::Failed(Box::new(std::io::Error::other("no"))),
        );
        assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(broken.headers().get(header::RETRY_AFTER), None);
    }

    #[test]
    fn an_error_redirect_logs_its_cause_once_and_sends_only_code_and_description() {
        let unreachable = sigil_core::store::StoreError::unavailable_from(
            "not the leader",
            std::io::Error::other("node 2 leads"),
        );
        let error = sigil_core::error::ProtocolError::from(unreachable);
        let redirect = ClientRedirect::error(
            "https://app.test/cb",
            ResponseMode::Query,
            "https://issuer.test",
            &error,
            Some("s-1"),
        );
        let (response, log) = crate::test_log::logged(|| respond(&redirect));
        assert_eq!(response.status(), StatusCode::FOUND);
        let location = response.headers().get(header::LOCATION);
        assert_eq!(
            location.and_then(|value| value.to_str().ok()),
            Some(
                "https://app.test/cb?error=temporarily_unavailable&error_description=the+grant+store+is+unavailable%3B+retry+shortly&state=s-1&iss=https%3A%2F%2Fissuer.test"
            )
        );
        assert_eq!(log.lines().count(), 1, "{log}");
        assert!(
            log.contains("grant store unavailable: not the leader: node 2 leads"),
            "{log}"
        );
        assert_eq!(log.matches("node 2 leads").count(), 1, "{log}");
    }
}
