//! `GET|POST /connect/endsession`: OpenID Connect RP-Initiated Logout.
//!
//! With an `id_token_hint` naming the signed-in user, the session ends at once; otherwise the
//! user confirms on a page first (so a link on another site cannot sign them out). A post
//! that arrives without the session cookie (another site's form: `SameSite=Lax` keeps the
//! cookie home) gets the confirmation page too, and no cookie is ever cleared for a request
//! that ended no session. The browser is sent back only to a registered
//! `post_logout_redirect_uri`. When the grant store cannot be reached, no session ends: the
//! confirmation page comes back with 503 and `Retry-After`, the cookie kept for the retry.

use super::form_error_response;
use crate::form::read_form;
use crate::signin::responses::{
    BUSY, bad_request, csrf_failed, found, server_error_page, unavailable, with_cookie,
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
    payload: web::Payload,
) -> HttpResponse {
    let params = match read_form(&request, payload, &[]).await {
        Ok(params) => params,
        Err(error) => return form_error_response(error),
    };
    end_session(&state, &request, &params, true).await
}

async fn end_session(
    state: &AppState,
    request: &HttpRequest,
    params: &Parameters,
    posted: bool,
) -> HttpResponse {
    let now = Timestamp::now();
    let logout = match state.provider.logout_request(params) {
        Ok(logout) => logout,
        Err(error) => return bad_request(&error.description),
    };
    let confirmed = posted && params.get("confirm") == Some("yes");
    if confirmed && !csrf::posted_form_ok(state.sealer.as_ref(), request, LOGOUT_FORM, params, now)
    {
        return csrf_failed();
    }
    let Some(session) = cookies::session(request, state.sealer.as_ref(), now) else {
        // No session cookie came. A link (GET) carries the SameSite=Lax cookie, so nobody is
        // signed in here; but another site's form post never carries it, whoever is signed
        // in: only a confirmation from this site's own page (which carries it) can tell.
        // Either way nothing is proven, so no cookie is touched.
        if posted && !confirmed {
            return confirm_page(state, request, params, None, now);
        }
        return finish(&logout, None);
    };
    let hinted = logout.hinted_subject.as_deref() == Some(session.subject.as_str());
    if !confirmed && !hinted {
        return confirm_page(state, request, params, None, now);
    }
    if let Err(error) = state.provider.end_session_record(&session).await {
        if error.code == ErrorCode::TemporarilyUnavailable {
            // The grant store cannot be reached: the session is not ended, so its cookie
            // stays, and the user is asked to confirm again in a moment.
            tracing::warn!(%error, "sign-out deferred");
            return unavailable(confirm_page(state, request, params, Some(BUSY), now));
        }
        tracing::error!(%error, "ending a session");
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
        None => pages::html(StatusCode::OK, pages::signed_out()),
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
    let (browser, new_cookie) = cookies::browser_id(request, state.cookies);
    let Ok(token) = csrf::issue(state.sealer.as_ref(), LOGOUT_FORM, &browser, now) else {
        return server_error_page();
    };
    let echoed: Vec<(&str, &str)> = ECHOED
        .iter()
        .filter_map(|name| params.get(name).map(|value| (*name, value)))
        .collect();
    let page = pages::logout_confirm(&token, &echoed, error);
    with_cookie(pages::html(StatusCode::OK, page), new_cookie)
}
