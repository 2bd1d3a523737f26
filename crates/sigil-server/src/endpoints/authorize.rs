//! `GET|POST /connect/authorize` and `GET /connect/authorize/continue`.

use crate::AppState;
use crate::discovery::EndpointPaths;
use crate::extract::{Form, Repeatable as _, ResourceRepeats};
use crate::signin::cookies;
use crate::signin::pending::next_step;
use crate::signin::responses::{bad_request, expired_request, render, same_request_as_get};
use actix_web::{HttpRequest, HttpResponse, web};
use sigil_core::parameters::Parameters;
use sigil_core::time::Timestamp;

/// `GET /connect/authorize`.
pub async fn authorize_get(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    match Parameters::parse(request.query_string().as_bytes(), ResourceRepeats::NAMES) {
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
    form: Form<ResourceRepeats>,
) -> HttpResponse {
    if !cookies::carries_session(&request) {
        if let Some(as_get) = same_request_as_get(EndpointPaths::AUTHORIZE, form.params.iter()) {
            return as_get;
        }
    }
    authorize(&state, &request, &form.params).await
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
