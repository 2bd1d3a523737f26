//! A single-page app in headless Chromium, served from another origin than the issuer,
//! signs in with the authorization code flow and PKCE, calls userinfo, refreshes and signs out
//! — every call to Sigil cross-origin, so the browser's CORS rules decide what the app may
//! read. Forms posted from another site (which the browser sends without the `SameSite=Lax`
//! cookies) neither break an open login form nor lose single sign-on. The same app on an origin no client registered may read discovery and JWKS but
//! neither redeem a code nor call userinfo; and the code it tried stays redeemable by the app.
//!
//! The app is `spa/` (plain HTML and a JavaScript module, no build step); the user's part is
//! played by `browser/spa_signin.mjs` (playwright-core). `make tools` installs Chromium and
//! playwright-core; without them this test fails, saying so.

use serde_json::Value;
use sigil_e2e::{ALICE_PASSWORD, config};
use sigil_testkit::SigilDev;
use sigil_testkit::chromium::run_script;
use sigil_testkit::static_site::StaticSite;
use std::path::Path;
use std::time::Duration;

/// The whole scenario, start to end, in one browser.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);

fn here(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A browser's refusal, as `fetch` reports it: a `TypeError` and no response at all.
fn blocked(answer: &Value, what: &str) {
    let refusal = answer["blocked"].as_str().unwrap_or_default();
    assert!(
        refusal.starts_with("TypeError"),
        "{what}: the browser must refuse to hand the answer over, saw {answer}"
    );
    assert!(answer.get("status").is_none(), "{what}: {answer}");
}

fn status(answer: &Value, what: &str) -> u64 {
    assert!(
        answer.get("blocked").is_none_or(Value::is_null),
        "{what}: blocked by the browser: {answer}"
    );
    answer["status"].as_u64().unwrap_or_default()
}

#[tokio::test]
async fn a_single_page_app_on_another_origin_signs_in_refreshes_and_signs_out_in_chromium() {
    let site = StaticSite::start(&here("spa")).await.unwrap();
    let spa = site.origin();
    let foreign = site.localhost_origin();
    let sigil = SigilDev::start(Some(&config("cors.yaml", &[("SPA_ORIGIN", &spa)])))
        .await
        .unwrap();
    let seen = run_script(
        &here("browser/spa_signin.mjs"),
        &[
            ("ISSUER", &sigil.base_url),
            ("SPA", &spa),
            ("FOREIGN", &foreign),
            ("USERNAME", "alice"),
            ("PASSWORD", ALICE_PASSWORD),
        ],
        SCENARIO_TIMEOUT,
    )
    .await
    .unwrap();
    let seen_text = serde_json::to_string_pretty(&seen).unwrap_or_default();
    let check = |ok: bool, what: &str| assert!(ok, "{what}; the browser saw:\n{seen_text}");

    // Public documents, from the app's origin.
    check(
        status(&seen["discovery"]["discovery"], "discovery") == 200,
        "discovery",
    );
    check(status(&seen["discovery"]["jwks"], "jwks") == 200, "jwks");
    check(
        seen["discovery"]["discovery"]["issuer"] == sigil.base_url.as_str(),
        "discovery names the issuer",
    );
    check(
        seen["discovery"]["jwks"]["keys"].as_u64() > Some(0),
        "the JWKS has keys",
    );

    // Another site's form posted to end-session while the login page was open: it set no
    // cookie (a new browser id would have broken the login form), and the login went on.
    check(
        seen["crossSiteEndSession"]["setCookies"] == serde_json::json!([]),
        "a cross-site post to end-session sets no cookie",
    );
    check(
        seen["crossSiteEndSession"]["documents"][0] == "POST /connect/endsession 303",
        "the cross-site post is carried on as a GET",
    );

    // The sign-in: login and consent pages, then the code redeemed by fetch.
    check(
        seen["pages"] == serde_json::json!(["login", "consent"]),
        "login, then consent",
    );
    let sign_in = &seen["signIn"];
    check(sign_in["stateMatches"] == true, "state round-trips");
    check(
        sign_in["issuerMatches"] == true,
        "iss names the issuer (RFC 9207)",
    );
    check(
        status(&sign_in["redemption"], "code redemption") == 200,
        "the app reads the token response",
    );
    check(
        sign_in["tokens"] == serde_json::json!(["access_token", "id_token", "refresh_token"]),
        "access, ID and refresh tokens",
    );
    check(
        sign_in["nonceMatches"] == true,
        "the ID token carries the nonce",
    );
    check(sign_in["subject"] == "alice-id", "the ID token names alice");

    // The session cookie, over the plain-http dev issuer: kept, without Secure (which a
    // browser would refuse to send back over http), HttpOnly, SameSite=Lax.
    check(
        seen["sessionCookie"]
            == serde_json::json!({ "secure": false, "httpOnly": true, "sameSite": "Lax" }),
        "Chromium keeps the session cookie on http://127.0.0.1",
    );

    // Userinfo (preflighted: Authorization header), refresh, userinfo with the new token.
    check(status(&seen["userinfo"], "userinfo") == 200, "userinfo");
    check(
        seen["userinfo"]["body"]["sub"] == "alice-id",
        "userinfo names alice",
    );
    check(status(&seen["refresh"], "refresh") == 200, "refresh");
    check(
        seen["refresh"]["rotated"] == true,
        "the refresh token rotates",
    );
    check(
        status(&seen["userinfoAfterRefresh"], "userinfo after refresh") == 200,
        "userinfo with the refreshed access token",
    );
    // End-session by fetch: answered, readable, and without cookies it ends nothing (the
    // silent sign-in right after it still gets a code).
    check(
        status(&seen["endSessionFetch"], "end-session fetch") == 200,
        "end-session answers the app's origin",
    );
    check(
        seen["held"]["code"].is_string(),
        "still signed in: a silent sign-in gets a code",
    );

    // A silent sign-in posted by another site's form keeps single sign-on: the post is
    // carried on as a GET, which the browser sends with the session cookie.
    check(
        seen["crossSiteSilent"]["documents"][0] == "POST /connect/authorize 303",
        "the cross-site authorization post is carried on as a GET",
    );
    check(
        seen["crossSiteSilent"]["code"].is_string()
            && seen["crossSiteSilent"]["stateMatches"] == true,
        "a cross-site prompt=none post gets a code",
    );

    // The same app on an origin nobody registered.
    let foreign_seen = &seen["foreign"];
    check(
        status(&foreign_seen["discovery"]["discovery"], "foreign discovery") == 200
            && status(&foreign_seen["discovery"]["jwks"], "foreign jwks") == 200,
        "discovery and JWKS are readable from any origin",
    );
    blocked(
        &foreign_seen["redeem"],
        "redeeming from an unregistered origin",
    );
    blocked(
        &foreign_seen["userinfo"],
        "userinfo from an unregistered origin",
    );
    // ...and the code it tried was not spent: the app redeems it.
    check(
        status(&seen["heldRedeemed"], "redeeming the held code") == 200,
        "the code the foreign page tried is still redeemable by the app",
    );

    // Logout: navigation to end-session with the ID token as hint, back to the app.
    check(
        seen["signedOut"]["signedOut"] == true,
        "back on the app after logout",
    );
    check(
        seen["signedOut"]["stateMatches"] == true,
        "logout state round-trips",
    );
    check(
        seen["sessionCookieAfterLogout"].is_null(),
        "the session cookie is gone",
    );
    check(
        seen["silentAfterLogout"]["error"] == "login_required",
        "after logout a silent sign-in needs a login",
    );
}
