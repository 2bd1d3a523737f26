//! `GET|POST /connect/authorize` and `GET /connect/authorize/continue`.

use super::form_error_response;
use crate::AppState;
use crate::discovery::EndpointPaths;
use crate::form::read_form;
use crate::signin::responses::{bad_request, cannot_seal, found, same_request_as_get};
use crate::signin::sealed::{SealFailure, open_json, purpose, seal_json};
use crate::signin::{cookies, pages};
use actix_web::{HttpRequest, HttpResponse, web};
use sigil_core::authorize::{
    AuthorizationRequest, AuthorizeError, AuthorizeStep, ClientRedirect, ResponseMode,
};
use sigil_core::parameters::Parameters;
use sigil_core::time::Timestamp;
use std::time::Duration;

/// How long a sign-in may take between the authorization request and the last page.
const REQUEST_LIFETIME: Duration = Duration::from_secs(3600);

/// Parameters that may repeat in an authorization request.
const REPEATABLE: &[&str] = &["resource"];

/// `GET /connect/authorize`.
pub async fn authorize_get(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    match Parameters::parse(request.query_string().as_bytes(), REPEATABLE) {
        Ok(params) => authorize(&state, &request, &params).await,
        Err(error) => bad_request(&error.description),
    }
}

/// `POST /connect/authorize` (a form, OIDC Core §3.1.2.1).
///
/// A client's form on its own site posts across sites, and the browser sends such a post
/// without the `SameSite=Lax` session cookie: answered here, a signed-in user would be asked
/// to sign in again, or `prompt=none` would get `login_required`. Without the cookie, the
/// post is answered with `303 See Other` to the same request as a GET, a top-level navigation
/// that carries the cookie. A request too long for an address (see [`MAX_GET_URL`]) is
/// answered here, without single sign-on.
///
/// [`MAX_GET_URL`]: crate::signin::responses::MAX_GET_URL
pub async fn authorize_post(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let params = match read_form(&request, payload, REPEATABLE).await {
        Ok(params) => params,
        Err(error) => return form_error_response(error),
    };
    if !cookies::carries_session(&request) {
        if let Some(as_get) = same_request_as_get(EndpointPaths::AUTHORIZE, params.iter()) {
            return as_get;
        }
    }
    authorize(&state, &request, &params).await
}

async fn authorize(state: &AppState, request: &HttpRequest, params: &Parameters) -> HttpResponse {
    let now = Timestamp::now();
    let session = cookies::session(request, state.sealer.as_ref(), now);
    let step = state
        .services
        .authorizer
        .authorize(params, session.as_ref(), now)
        .await;
    render(state, step)
}

/// `GET /connect/authorize/continue?request=…`: carries on after the login page.
pub async fn authorize_continue(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    match next_step(&state, &request).await {
        Some(step) => render(&state, step),
        None => expired_request(),
    }
}

/// The next step of the sealed request in the query, for the browser's session; `None` if
/// the request does not open (tampered or expired).
pub(crate) async fn next_step(
    state: &AppState,
    request: &HttpRequest,
) -> Option<Result<AuthorizeStep, AuthorizeError>> {
    let now = Timestamp::now();
    let authorization = sealed_request(state, request, now)?;
    let session = cookies::session(request, state.sealer.as_ref(), now);
    Some(
        state
            .services
            .authorizer
            .continue_authorize(authorization, session.as_ref(), now)
            .await,
    )
}

/// The sealed authorization request in the query (`request=…`), if it opens and is fresh.
pub(crate) fn sealed_request(
    state: &AppState,
    request: &HttpRequest,
    now: Timestamp,
) -> Option<AuthorizationRequest> {
    let params = Parameters::parse(request.query_string().as_bytes(), &[]).ok()?;
    open_request(state, params.get("request")?, now)
}

/// Opens a sealed authorization request.
pub(crate) fn open_request(
    state: &AppState,
    sealed: &str,
    now: Timestamp,
) -> Option<AuthorizationRequest> {
    open_json(
        state.sealer.as_ref(),
        purpose::AUTHORIZE_REQUEST,
        sealed,
        now,
    )
}

/// The page shown for a missing, tampered or expired sealed request.
pub(crate) fn expired_request() -> HttpResponse {
    bad_request(
        "This sign-in request has expired or is invalid. Go back to the application and start again.",
    )
}

/// Renders the outcome of an authorization step.
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
        Err(AuthorizeError::Untrusted(error)) => bad_request(&error.description),
        Err(AuthorizeError::Redirect(redirect)) => respond(&redirect),
    }
}

/// Redirects the browser to one of the pages, carrying the sealed request.
fn to_page(state: &AppState, path: &str, request: &AuthorizationRequest) -> HttpResponse {
    match seal_request(state, request) {
        Ok(sealed) => {
            let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("request", &sealed)
                .finish();
            found(&format!("{path}?{query}"))
        }
        Err(error) => cannot_seal("an authorization request", &error),
    }
}

/// Seals a request for the pages.
pub(crate) fn seal_request(
    state: &AppState,
    request: &AuthorizationRequest,
) -> Result<String, SealFailure> {
    seal_json(
        state.sealer.as_ref(),
        purpose::AUTHORIZE_REQUEST,
        request,
        request.received_at.plus(REQUEST_LIFETIME),
    )
}

/// Delivers parameters to the client: a redirect (query, fragment) or a form post.
pub(crate) fn respond(redirect: &ClientRedirect) -> HttpResponse {
    match redirect.mode {
        ResponseMode::FormPost => pages::form_post(&redirect.redirect_uri, &redirect.params),
        ResponseMode::Query | ResponseMode::Fragment => found(&redirect.location()),
    }
}
