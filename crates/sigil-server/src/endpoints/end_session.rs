//! `GET|POST /connect/endsession`: OpenID Connect RP-Initiated Logout.
//!
//! With an `id_token_hint` naming the signed-in user, the session ends at once; otherwise the
//! user confirms on a page first (so a link on another site cannot sign them out). A post
//! that arrives without the session cookie (another site's form: `SameSite=Lax` keeps the
//! cookies home) is answered with `303 See Other` to the same request as a GET, which the
//! browser sends with its cookies: a request that cannot see who is signed in sets no cookie,
//! neither clearing the session nor replacing the browser id that open forms are bound to.
//! No cookie is ever cleared for a request that ended no session. The browser is sent back
//! only to a registered `post_logout_redirect_uri`. When the grant store cannot be reached, no
//! session ends: the confirmation page comes back with 503 and `Retry-After`, the cookie kept
//! for the retry.

use crate::discovery::EndpointPaths;
use crate::extract::Form;
use crate::signin::responses::{
    BUSY, bad_request, cannot_seal, csrf_failed, found, html, same_request_as_get,
    server_error_page, unavailable, with_cookie,
};
use crate::signin::{cookies, csrf, pages};
use crate::{AppState, audit};
use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use sigil_core::endpoint::LogoutRequest;
use sigil_core::error::ErrorCode;
use sigil_core::parameters::Parameters;
use sigil_core::time::Timestamp;

const LOGOUT_FORM: &str = "logout";
const ECHOED: [&str; 4] = [
    "id_token_hint",
    "post_logout_redirect_uri",
    "state",
    "client_id",
];

/// `GET /connect/endsession`.
pub async fn end_session_get(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    match Parameters::parse(request.query_string().as_bytes(), &[]) {
        Ok(params) => end_session(&state, &request, &params, false).await,
        Err(error) => bad_request(&error.description),
    }
}

/// `POST /connect/endsession` (from the client, or the confirmation form).
pub async fn end_session_post(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: Form,
) -> HttpResponse {
    let params = form.params;
    if !cookies::carries_session(&request) {
        // Another site's form (SameSite=Lax keeps every cookie home), or a browser where
        // nobody is signed in: this request cannot tell which. Answering it with a page
        // would set a new browser id, replacing the one this browser's open forms are bound
        // to. The same request as a GET, a top-level navigation, carries the cookies.
        let carried = params.iter().filter(|(name, _)| ECHOED.contains(name));
        return same_request_as_get(EndpointPaths::END_SESSION, carried).unwrap_or_else(|| {
            bad_request("This sign-out request is too long. Go back to the application.")
        });
    }
    end_session(&state, &request, &params, true).await
}

async fn end_session(
    state: &AppState,
    request: &HttpRequest,
    params: &Parameters,
    posted: bool,
) -> HttpResponse {
    let now = Timestamp::now();
    let logout = match state.services.authorizer.logout_request(params) {
        Ok(logout) => logout,
        Err(error) => return bad_request(&error.description),
    };
    let confirmed = posted && params.get("confirm") == Some("yes");
    if confirmed && !csrf::posted_form_ok(state.sealer.as_ref(), request, LOGOUT_FORM, params, now)
    {
        return csrf_failed();
    }
    let Some(session) = cookies::session(request, state.sealer.as_ref(), now) else {
        // A GET (a top-level navigation carries the SameSite=Lax cookie), or a post that
        // carried a session cookie which no longer opens: nobody is signed in here, and no
        // cookie is touched.
        return finish(&logout, None);
    };
    let hinted = logout.hinted_subject.as_deref() == Some(session.subject.as_str());
    if !confirmed && !hinted {
        return confirm_page(state, request, params, None, now);
    }
    if let Err(error) = state.services.authorizer.end_session_record(&session).await {
        if error.code == ErrorCode::TemporarilyUnavailable {
            // The grant store cannot be reached: the session is not ended, so its cookie
            // stays, and the user is asked to confirm again in a moment.
            crate::errors::log_failure(&error, "sign-out deferred");
            return unavailable(confirm_page(state, request, params, Some(BUSY), now));
        }
        crate::errors::log_failure(&error, "ending a session");
        return server_error_page();
    }
    audit::logout(&session.subject, logout.client_id.as_deref());
    finish(&logout, Some(cookies::clear_session_cookie(state.cookies)))
}

/// Sends the browser on, clearing the session cookie only where the session was ended: a
/// request that proved nothing must not sign anyone out, not even in one browser.
fn finish(logout: &LogoutRequest, clear: Option<Cookie<'static>>) -> HttpResponse {
    let response = match &logout.redirect {
        Some(location) => found(location),
        None => html(StatusCode::OK, pages::signed_out()),
    };
    with_cookie(response, clear)
}

/// The confirmation page, with `error` above the button if an earlier try failed.
fn confirm_page(
    state: &AppState,
    request: &HttpRequest,
    params: &Parameters,
    error: Option<&str>,
    now: Timestamp,
) -> HttpResponse {
    // Posts get here only with the session cookie.
    let Some((browser, new_cookie)) = cookies::browser_id(request, state.cookies) else {
        return csrf_failed();
    };
    let token = match csrf::issue(state.sealer.as_ref(), LOGOUT_FORM, &browser, now) {
        Ok(token) => token,
        Err(error) => return cannot_seal("a CSRF token", &error),
    };
    let echoed: Vec<(&str, &str)> = ECHOED
        .iter()
        .filter_map(|name| params.get(name).map(|value| (*name, value)))
        .collect();
    let page = pages::logout_confirm(&token, &echoed, error);
    with_cookie(html(StatusCode::OK, page), new_cookie)
}
