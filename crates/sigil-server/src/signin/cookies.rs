//! The two cookies: `sigil_session` (the sealed [`Session`]) and `sigil_browser` (a random id
//! that CSRF tokens are bound to). Both `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure`
//! unless turned off for local http.

use super::sealed::{open_json, purpose, seal_json};
use super::{CookiePolicy, Sealer};
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use sigil_core::authorize::Session;
use sigil_core::handle::new_token_id;
use sigil_core::time::Timestamp;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "sigil_session";
/// The browser-binding cookie's name.
pub const BROWSER_COOKIE: &str = "sigil_browser";

fn cookie(name: &'static str, value: String, policy: CookiePolicy) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(policy.secure)
        .same_site(SameSite::Lax)
        .finish()
}

/// The session the request's cookie carries, if it opens and has not expired. Whether it was
/// logged out is the provider's question (it asks the grant store).
pub fn session(request: &HttpRequest, sealer: &dyn Sealer, now: Timestamp) -> Option<Session> {
    let value = request.cookie(SESSION_COOKIE)?;
    open_json(sealer, purpose::SESSION, value.value(), now)
}

/// True if the request carries a session cookie, whether or not it still opens. A browser
/// sends none with a form that another site posts (`SameSite=Lax`): such a request cannot
/// tell who is signed in, and is not answered with cookies.
pub fn carries_session(request: &HttpRequest) -> bool {
    request
        .cookie(SESSION_COOKIE)
        .is_some_and(|cookie| !cookie.value().is_empty())
}

/// The cookie that carries `session`, lasting as long as it does.
pub fn session_cookie(
    session: &Session,
    sealer: &dyn Sealer,
    policy: CookiePolicy,
    now: Timestamp,
) -> Result<Cookie<'static>, String> {
    let sealed = seal_json(sealer, purpose::SESSION, session, session.expires_at)?;
    let mut cookie = cookie(SESSION_COOKIE, sealed, policy);
    let seconds = session.expires_at.as_secs().saturating_sub(now.as_secs());
    cookie.set_max_age(CookieDuration::seconds(
        i64::try_from(seconds).unwrap_or(i64::MAX),
    ));
    Ok(cookie)
}

/// A cookie that removes the session cookie.
pub fn clear_session_cookie(policy: CookiePolicy) -> Cookie<'static> {
    let mut cookie = cookie(SESSION_COOKIE, String::new(), policy);
    cookie.make_removal();
    cookie
}

/// The browser id, and the cookie to set when the browser had none yet.
pub fn browser_id(
    request: &HttpRequest,
    policy: CookiePolicy,
) -> (String, Option<Cookie<'static>>) {
    match request.cookie(BROWSER_COOKIE) {
        Some(existing) if !existing.value().is_empty() => (existing.value().to_owned(), None),
        _ => {
            let id = new_token_id();
            let cookie = cookie(BROWSER_COOKIE, id.clone(), policy);
            (id, Some(cookie))
        }
    }
}

/// The browser id the request carries, if any (form posts must carry one).
pub fn existing_browser_id(request: &HttpRequest) -> Option<String> {
    request
        .cookie(BROWSER_COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| !value.is_empty())
}
