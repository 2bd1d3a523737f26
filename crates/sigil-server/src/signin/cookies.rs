//! The two cookies: `sigil_session` (the sealed [`Session`]) and `sigil_browser` (a random id
//! that CSRF tokens are bound to). Both `HttpOnly`, `SameSite=Lax`, `Path=/`, and `Secure`
//! unless turned off for local http.

use super::sealed::{open_json, purpose, seal_json};
use super::{CookiePolicy, SealFailure, Sealer};
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::Method;
use sigil_core::handle::new_token_id;
use sigil_core::model::Session;
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
/// logged out is the authorizer's question (it asks the grant store).
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
) -> Result<Cookie<'static>, SealFailure> {
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
///
/// `None` for a request that must not be answered with a new id: a post that carries neither
/// cookie. Another site's form is sent without the `SameSite=Lax` cookies, yet the browser
/// applies what the answer sets, and a new id would replace the one that the CSRF tokens of
/// the browser's open forms are bound to. A `GET` without the cookie is a browser without one
/// (a top-level navigation carries it), and a request with the session cookie is same-site.
pub fn browser_id(
    request: &HttpRequest,
    policy: CookiePolicy,
) -> Option<(String, Option<Cookie<'static>>)> {
    if let Some(existing) = existing_browser_id(request) {
        return Some((existing, None));
    }
    let navigation = request.method() == Method::GET || request.method() == Method::HEAD;
    if !navigation && !carries_session(request) {
        return None;
    }
    let id = new_token_id();
    let cookie = cookie(BROWSER_COOKIE, id.clone(), policy);
    Some((id, Some(cookie)))
}

/// The browser id the request carries, if any (form posts must carry one).
pub fn existing_browser_id(request: &HttpRequest) -> Option<String> {
    request
        .cookie(BROWSER_COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    const POLICY: CookiePolicy = CookiePolicy { secure: true };

    fn new_id(request: TestRequest) -> Option<bool> {
        let request = request.to_http_request();
        browser_id(&request, POLICY).map(|(_, cookie)| cookie.is_some())
    }

    #[test]
    fn a_new_browser_id_answers_only_a_navigation_or_a_same_site_request() {
        let browser = (BROWSER_COOKIE, "b-1");
        let session = (SESSION_COOKIE, "s-1");
        // Another site's form post carries neither cookie: no id at all.
        assert_eq!(new_id(TestRequest::post()), None);
        // A navigation without the cookie is a browser that has none yet.
        assert_eq!(new_id(TestRequest::get()), Some(true));
        // The session cookie came, so the post is same-site.
        let with_session = TestRequest::post().cookie(Cookie::new(session.0, session.1));
        assert_eq!(new_id(with_session), Some(true));
        // An existing id is kept, whatever the method.
        for request in [TestRequest::get(), TestRequest::post()] {
            let request = request.cookie(Cookie::new(browser.0, browser.1));
            let http = request.to_http_request();
            assert_eq!(
                browser_id(&http, POLICY).map(|(id, new)| (id, new.is_none())),
                Some(("b-1".to_owned(), true))
            );
        }
    }
}
