//! CSRF tokens for the login, consent and logout forms: sealed (form name, browser id,
//! expiry). A token is only accepted from the browser it was issued to, for the form it was
//! issued for, for an hour — an attacker's page can neither read one nor mint one.

use super::cookies;
use super::sealed::{open_json, purpose, seal_json};
use super::{SealFailure, Sealer};
use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};
use sigil_core::parameters::Parameters;
use sigil_core::time::Timestamp;
use std::time::Duration;

/// How long a rendered form may wait to be submitted.
const LIFETIME: Duration = Duration::from_secs(3600);

#[derive(Serialize, Deserialize, PartialEq, Eq)]
struct Binding {
    form: String,
    browser: String,
}

/// A token for `form` in the browser `browser_id`.
pub fn issue(
    sealer: &dyn Sealer,
    form: &str,
    browser_id: &str,
    now: Timestamp,
) -> Result<String, SealFailure> {
    let binding = Binding {
        form: form.to_owned(),
        browser: browser_id.to_owned(),
    };
    seal_json(sealer, purpose::CSRF, &binding, now.plus(LIFETIME))
}

/// True if `token` was issued for `form` to the browser `browser_id` and is still fresh.
pub fn check(
    sealer: &dyn Sealer,
    form: &str,
    browser_id: Option<&str>,
    token: Option<&str>,
    now: Timestamp,
) -> bool {
    let (Some(browser), Some(token)) = (browser_id, token) else {
        return false;
    };
    open_json::<Binding>(sealer, purpose::CSRF, token, now)
        .is_some_and(|binding| binding.form == form && binding.browser == browser)
}

/// True if the posted `form`'s `csrf` field was issued for it to the browser whose cookie
/// `request` carries. A request without the browser cookie never passes.
pub fn posted_form_ok(
    sealer: &dyn Sealer,
    request: &HttpRequest,
    form: &str,
    params: &Parameters,
    now: Timestamp,
) -> bool {
    let browser = cookies::existing_browser_id(request);
    check(sealer, form, browser.as_deref(), params.get("csrf"), now)
}
