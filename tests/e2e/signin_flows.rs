//! Signing users in through the authorization endpoint, as a browser and a client see it:
//! code with PKCE, hybrid, implicit, `form_post`, single sign-on, `prompt`, remembered
//! consent, refresh token rotation, public clients, userinfo and logout.

use serde_json::json;
use sigil_e2e::signin::{
    ALICE, Authorize, BOB, FIRST_PARTY, IMPLICIT, PORTAL, SPA, WEB, WEB_SCOPES, callback, decide,
    field, is_consent_page, is_login_page, log_in, now, open, post_credentials,
    post_from_another_site, redeem, redeem_ok, refresh, respond_without_pages, scopes, sign_in,
    sign_in_and_redeem, sign_in_with, start, start_with, until_the_next_second, userinfo, verified,
};
use sigil_testkit::browser::{Browser, Page, ResponseMode};
use sigil_testkit::client::{form, get_json, half_sha256, verify_access_token};
use std::time::Duration;

fn is_lax(cookie: &sigil_testkit::browser::SetCookie) -> bool {
    cookie
        .attribute("samesite")
        .flatten()
        .is_some_and(|v| v.eq_ignore_ascii_case("lax"))
}

#[tokio::test]
async fn discovery_advertises_the_sign_in_endpoints() {
    let (sigil, _) = start().await;
    let issuer = &sigil.base_url;
    let oidc = get_json(&sigil.url("/.well-known/openid-configuration"))
        .await
        .unwrap();
    for (field, path) in [
        ("authorization_endpoint", "/connect/authorize"),
        ("userinfo_endpoint", "/connect/userinfo"),
        ("end_session_endpoint", "/connect/endsession"),
    ] {
        assert_eq!(oidc[field], format!("{issuer}{path}"), "{field}");
    }
    let has = |field: &str, value: &str| {
        oidc[field]
            .as_array()
            .is_some_and(|values| values.iter().any(|v| v == value))
    };
    for value in ["code", "code id_token", "id_token", "id_token token"] {
        assert!(has("response_types_supported", value), "{value}: {oidc}");
    }
    for value in ["query", "fragment", "form_post"] {
        assert!(has("response_modes_supported", value), "{value}: {oidc}");
    }
    for value in ["authorization_code", "refresh_token"] {
        assert!(has("grant_types_supported", value), "{value}: {oidc}");
    }
    assert!(has("claims_supported", "sub"), "{oidc}");
    assert_eq!(
        oidc["code_challenge_methods_supported"],
        json!(["S256", "plain"])
    );
    assert_eq!(oidc["subject_types_supported"], json!(["public"]));
    assert!(
        oidc["id_token_signing_alg_values_supported"]
            .as_array()
            .is_some_and(|algs| !algs.is_empty())
    );
    assert_eq!(oidc["authorization_response_iss_parameter_supported"], true);
}

#[tokio::test]
async fn code_flow_with_pkce_from_login_page_to_userinfo() {
    let (sigil, mut browser) = start().await;
    let started = now();
    let request = Authorize::new(WEB, WEB_SCOPES);

    // An unknown browser is sent to the login page, which binds its CSRF token to a cookie.
    let first = browser.get(&request.url(&browser)).await.unwrap();
    assert_eq!(first.status, 302, "{first:#?}");
    let to_login = first.redirect_target().unwrap().unwrap();
    assert!(
        to_login.starts_with(&sigil.url("/account/login?request=")),
        "{to_login}"
    );
    let login_page = browser.follow(first).await.unwrap();
    assert!(is_login_page(&login_page), "{login_page:#?}");
    let browser_cookie = login_page
        .set_cookie("sigil_browser")
        .unwrap_or_else(|| panic!("the login page sets no sigil_browser: {login_page:#?}"));
    assert_eq!(browser_cookie.attribute("httponly"), Some(None));
    assert!(is_lax(&browser_cookie), "{browser_cookie:?}");
    let login = login_page.form("/account/login").unwrap();
    assert!(login.method.eq_ignore_ascii_case("post"));
    assert!(login.input("username").is_some() && login.input("password").is_some());

    // A wrong password shows the form again and signs nobody in.
    let wrong = browser
        .submit(
            &login_page,
            &login,
            &login.fill(&[
                ("username", ALICE.username),
                ("password", "not-her-password"),
            ]),
        )
        .await
        .unwrap();
    assert_eq!(wrong.status, 200, "{wrong:#?}");
    assert!(
        wrong.body.contains("Invalid username or password"),
        "{}",
        wrong.body
    );
    assert!(is_login_page(&wrong));
    assert!(wrong.set_cookie("sigil_session").is_none());
    assert_eq!(browser.cookie("sigil_session"), None);

    // The right password: a session cookie, then on through /connect/authorize/continue.
    let login = wrong.form("/account/login").unwrap();
    let posted = browser
        .post_form(
            &wrong.resolve(&login.action).unwrap(),
            &login.fill(&[("username", ALICE.username), ("password", ALICE.password)]),
        )
        .await
        .unwrap();
    assert_eq!(posted.status, 302, "{posted:#?}");
    let next = posted.redirect_target().unwrap().unwrap();
    assert!(
        next.starts_with(&sigil.url("/connect/authorize/continue?request=")),
        "{next}"
    );
    let session = posted
        .set_cookie("sigil_session")
        .unwrap_or_else(|| panic!("no sigil_session after logging in: {posted:#?}"));
    assert_eq!(session.attribute("httponly"), Some(None), "{session:?}");
    assert!(is_lax(&session), "{session:?}");
    assert_eq!(session.attribute("path"), Some(Some("/")), "{session:?}");
    assert_eq!(
        session.attribute("secure"),
        None,
        "cookie_secure is false: {session:?}"
    );

    // Consent names the client and the scopes.
    let consent_page = browser.follow(posted).await.unwrap();
    assert!(is_consent_page(&consent_page), "{consent_page:#?}");
    assert!(
        consent_page.body.contains("Web Shop"),
        "{}",
        consent_page.body
    );
    assert!(
        consent_page.body.contains("orders.read"),
        "{}",
        consent_page.body
    );
    let consent = consent_page.form("/account/consent").unwrap();
    let mut decisions = consent.buttons("decision");
    decisions.sort_unstable();
    assert_eq!(decisions, ["allow", "deny"]);
    let remember = consent.input("remember").unwrap();
    assert_eq!(
        (remember.kind.as_str(), remember.value.as_str()),
        ("checkbox", "on")
    );

    let done = decide(&mut browser, &consent_page, "allow", true).await;
    let response = callback(&browser, &done);
    assert_eq!(response.mode, ResponseMode::Query);
    assert_eq!(response.redirect_uri, WEB.redirect_uri);
    assert_eq!(response.get("state"), Some(request.state()));
    assert_eq!(response.get("iss"), Some(sigil.base_url.as_str()));
    let code = response.require("code").unwrap();

    // The code buys tokens once.
    let answer = redeem(&sigil.url("/connect/token"), &request, code).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.cache_control.as_deref(), Some("no-store"));
    let tokens = answer.body;
    assert!(field(&tokens, "token_type").eq_ignore_ascii_case("bearer"));
    assert!(
        tokens["expires_in"].as_u64().is_some_and(|s| s > 0),
        "{tokens}"
    );
    assert_eq!(scopes(field(&tokens, "scope")), scopes(WEB_SCOPES));
    let access_token = field(&tokens, "access_token");
    let id_token = field(&tokens, "id_token");
    assert!(!field(&tokens, "refresh_token").is_empty());

    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert!(
        matches!(
            header.alg,
            jsonwebtoken::Algorithm::RS256
                | jsonwebtoken::Algorithm::ES256
                | jsonwebtoken::Algorithm::PS256
        ),
        "at_hash below assumes SHA-256: {:?}",
        header.alg
    );
    let claims = verified(&sigil, WEB.id, id_token).await;
    assert_eq!(claims["sub"], ALICE.subject);
    assert_eq!(claims["nonce"], request.nonce());
    assert_eq!(claims["at_hash"], half_sha256(access_token));
    assert_eq!(claims.get("c_hash"), None);
    assert_eq!(claims["azp"], WEB.id);
    assert_eq!(claims["amr"], json!(["pwd"]));
    let auth_time = claims["auth_time"].as_u64().unwrap();
    assert!(
        auth_time + 5 >= started && auth_time <= now() + 5,
        "{claims}"
    );
    assert!(
        claims["sid"].as_str().is_some_and(|sid| !sid.is_empty()),
        "{claims}"
    );
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        300,
        "the default id_token_lifetime"
    );

    // The access token is a JWT the orders API accepts, for Alice through the web client.
    let jwks = get_json(&sigil.url("/.well-known/jwks.json"))
        .await
        .unwrap();
    let access = verify_access_token(access_token, &jwks, &sigil.base_url, "https://orders.test")
        .unwrap_or_else(|error| panic!("{error:#}"));
    assert_eq!(access["sub"], ALICE.subject);
    assert_eq!(access["client_id"], WEB.id);

    // Userinfo: the claims of the granted identity scopes, by GET and by POST.
    let info = userinfo(&sigil.url("/connect/userinfo"), access_token).await;
    assert_eq!(info.status, 200, "{info:?}");
    assert_eq!(info.body["sub"], ALICE.subject);
    assert_eq!(info.body["name"], "Alice Example");
    assert_eq!(info.body["email"], "alice@example.test");
    assert_eq!(info.body["email_verified"], true);
    let by_post = reqwest::Client::new()
        .post(sigil.url("/connect/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(by_post.status(), 200);
    let by_post: serde_json::Value = by_post.json().await.unwrap();
    assert_eq!(by_post["sub"], ALICE.subject);

    let refused = userinfo(&sigil.url("/connect/userinfo"), "not-a-token").await;
    assert_eq!(refused.status, 401);
    assert!(
        refused
            .www_authenticate
            .as_deref()
            .is_some_and(|h| h.starts_with("Bearer") && h.contains("error=\"invalid_token\"")),
        "{refused:?}"
    );

    for event in [
        "login_failed",
        "login_succeeded",
        "consent_granted",
        "code_redeemed",
    ] {
        sigil
            .wait_for_event(event)
            .await
            .unwrap_or_else(|error| panic!("no `{event}` audit event: {error}"));
    }
}

#[tokio::test]
async fn userinfo_holds_only_the_granted_identity_claims() {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");
    let request = Authorize::new(FIRST_PARTY, "openid");
    let tokens = sign_in_and_redeem(&mut browser, &request, &ALICE, &token_url).await;
    let info = userinfo(
        &sigil.url("/connect/userinfo"),
        field(&tokens, "access_token"),
    )
    .await;
    assert_eq!(info.status, 200, "{info:?}");
    assert_eq!(info.body["sub"], ALICE.subject);
    for claim in ["name", "email", "email_verified"] {
        assert_eq!(info.body.get(claim), None, "{claim} without its scope");
    }

    // An access token without `openid` does not open userinfo.
    let request = Authorize::new(FIRST_PARTY, "orders.read");
    let tokens = sign_in_and_redeem(&mut browser, &request, &ALICE, &token_url).await;
    assert_eq!(tokens.get("id_token"), None, "no openid, no ID token");
    let info = userinfo(
        &sigil.url("/connect/userinfo"),
        field(&tokens, "access_token"),
    )
    .await;
    assert_ne!(info.status, 200, "{info:?}");
}

#[tokio::test]
async fn hybrid_code_id_token_arrives_in_the_fragment_with_c_hash() {
    let (sigil, mut browser) = start().await;
    let request = Authorize::new(WEB, "openid profile").set("response_type", "code id_token");
    let signed = sign_in(&mut browser, &request, &ALICE).await;
    let response = signed.callback;
    assert_eq!(response.mode, ResponseMode::Fragment, "{response:?}");
    assert_eq!(response.redirect_uri, WEB.redirect_uri);
    assert_eq!(response.get("state"), Some(request.state()));
    assert_eq!(response.get("iss"), Some(sigil.base_url.as_str()));
    let code = response.require("code").unwrap();
    let front = verified(&sigil, WEB.id, response.require("id_token").unwrap()).await;
    assert_eq!(front["sub"], ALICE.subject);
    assert_eq!(front["nonce"], request.nonce());
    assert_eq!(front["c_hash"], half_sha256(code));
    assert_eq!(
        front.get("at_hash"),
        None,
        "no access token in this response"
    );

    let tokens = redeem_ok(&sigil.url("/connect/token"), &request, code).await;
    let back = verified(&sigil, WEB.id, field(&tokens, "id_token")).await;
    assert_eq!(back["sub"], front["sub"]);
    assert_eq!(back["sid"], front["sid"]);
    assert_eq!(back["at_hash"], half_sha256(field(&tokens, "access_token")));

    // The hybrid flow needs a nonce (OIDC Core §3.3.2.11): an error, in the fragment.
    let request = Authorize::new(WEB, "openid profile")
        .set("response_type", "code id_token")
        .unset("nonce");
    let refused = sign_in(&mut browser, &request, &ALICE).await.callback;
    assert_eq!(refused.mode, ResponseMode::Fragment, "{refused:?}");
    assert_eq!(refused.get("error"), Some("invalid_request"), "{refused:?}");
    assert_eq!(refused.get("state"), Some(request.state()));
    assert_eq!(refused.get("code"), None);
}

#[tokio::test]
async fn form_post_delivers_the_response_in_an_auto_submitting_form() {
    let (sigil, mut browser) = start().await;
    let request = Authorize::new(WEB, "openid").set("response_mode", "form_post");
    let mut page = open(&mut browser, &request).await;
    page = log_in(&mut browser, &page, &ALICE).await;
    page = decide(&mut browser, &page, "allow", true).await;
    assert_eq!(page.status, 200, "{page:#?}");
    assert!(
        page.content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/html"))
    );
    let form = page.form(WEB.redirect_uri).unwrap();
    assert!(form.method.eq_ignore_ascii_case("post"), "{form:?}");
    assert_eq!(form.action, WEB.redirect_uri);
    for name in ["code", "state", "iss"] {
        let input = form
            .input(name)
            .unwrap_or_else(|| panic!("no {name}: {form:?}"));
        assert_eq!(input.kind, "hidden", "{name}");
    }
    let response = callback(&browser, &page);
    assert_eq!(response.mode, ResponseMode::FormPost);
    assert_eq!(response.get("state"), Some(request.state()));
    assert_eq!(response.get("iss"), Some(sigil.base_url.as_str()));
    let code = response.require("code").unwrap();
    redeem_ok(&sigil.url("/connect/token"), &request, code).await;
}

#[tokio::test]
async fn one_sign_in_serves_a_second_client_without_the_login_page() {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");
    let web_request = Authorize::new(WEB, "openid profile");
    let web = sign_in(&mut browser, &web_request, &ALICE).await;
    assert!(web.saw_login && web.saw_consent);
    let web_tokens = redeem_ok(
        &token_url,
        &web_request,
        web.callback.require("code").unwrap(),
    )
    .await;
    let web_claims = verified(&sigil, WEB.id, field(&web_tokens, "id_token")).await;

    // The portal asks for its own consent, but not for the password again.
    let portal_request = Authorize::new(PORTAL, "openid profile");
    let portal = sign_in(&mut browser, &portal_request, &ALICE).await;
    assert!(!portal.saw_login, "signed in already");
    assert!(portal.saw_consent, "consent is per client");
    let portal_tokens = redeem_ok(
        &token_url,
        &portal_request,
        portal.callback.require("code").unwrap(),
    )
    .await;
    let portal_claims = verified(&sigil, PORTAL.id, field(&portal_tokens, "id_token")).await;
    assert_eq!(portal_claims["sub"], ALICE.subject);
    assert_eq!(portal_claims["sid"], web_claims["sid"], "one session");
    assert_eq!(portal_claims["auth_time"], web_claims["auth_time"]);
    assert_eq!(portal_claims["nonce"], portal_request.nonce());

    // A first-party client needs neither.
    let first_request = Authorize::new(FIRST_PARTY, "openid");
    let first = sign_in(&mut browser, &first_request, &ALICE).await;
    assert!(!first.saw_login && !first.saw_consent);
    assert!(first.callback.get("code").is_some(), "{:?}", first.callback);

    // Another browser is another user's session.
    let mut other = Browser::new(&sigil.base_url).unwrap();
    let bob_request = Authorize::new(PORTAL, "openid profile");
    let bob = sign_in(&mut other, &bob_request, &BOB).await;
    assert!(bob.saw_login);
    let bob_tokens = redeem_ok(
        &token_url,
        &bob_request,
        bob.callback.require("code").unwrap(),
    )
    .await;
    let bob_claims = verified(&sigil, PORTAL.id, field(&bob_tokens, "id_token")).await;
    assert_eq!(bob_claims["sub"], BOB.subject);
    assert_ne!(bob_claims["sid"], web_claims["sid"]);
}

#[tokio::test]
async fn prompt_none_answers_without_showing_a_page() {
    let (sigil, mut browser) = start().await;

    // No session: login_required, straight back to the client.
    let request = Authorize::new(WEB, "openid profile").set("prompt", "none");
    let response = respond_without_pages(&mut browser, &request).await;
    assert_eq!(
        response.get("error"),
        Some("login_required"),
        "{response:?}"
    );
    assert_eq!(response.get("state"), Some(request.state()));
    assert_eq!(response.get("iss"), Some(sigil.base_url.as_str()));
    assert_eq!(response.get("code"), None);

    let signed = sign_in(&mut browser, &Authorize::new(WEB, "openid profile"), &ALICE).await;
    assert!(signed.saw_login);

    // A session and remembered consent: a code.
    let request = Authorize::new(WEB, "openid profile").set("prompt", "none");
    let response = respond_without_pages(&mut browser, &request).await;
    assert_eq!(response.get("error"), None, "{response:?}");
    let code = response.require("code").unwrap();
    redeem_ok(&sigil.url("/connect/token"), &request, code).await;

    // A session, but no consent for this client: consent_required.
    let request = Authorize::new(PORTAL, "openid profile").set("prompt", "none");
    let response = respond_without_pages(&mut browser, &request).await;
    assert_eq!(
        response.get("error"),
        Some("consent_required"),
        "{response:?}"
    );
    assert_eq!(response.get("state"), Some(request.state()));
}

#[tokio::test]
async fn consent_is_remembered_only_when_asked_and_only_for_those_scopes() {
    let (sigil, mut browser) = start().await;
    let scope = "openid profile";

    let first = sign_in_with(&mut browser, &Authorize::new(WEB, scope), &ALICE, false).await;
    assert!(first.saw_login && first.saw_consent);
    let second = sign_in_with(&mut browser, &Authorize::new(WEB, scope), &ALICE, true).await;
    assert!(!second.saw_login);
    assert!(
        second.saw_consent,
        "consent given without `remember` is asked again"
    );

    // Remembered: the authorization endpoint answers the client at once.
    let request = Authorize::new(WEB, scope);
    let page = browser.get(&request.url(&browser)).await.unwrap();
    let response = callback(&browser, &page);
    assert_eq!(response.get("state"), Some(request.state()));
    let code = response.require("code").unwrap();
    redeem_ok(&sigil.url("/connect/token"), &request, code).await;

    // A scope beyond what was consented to asks again; denying tells the client so.
    let wider = Authorize::new(WEB, "openid profile email");
    let page = open(&mut browser, &wider).await;
    assert!(is_consent_page(&page), "{page:#?}");
    let denied = decide(&mut browser, &page, "deny", false).await;
    let response = callback(&browser, &denied);
    assert_eq!(response.get("error"), Some("access_denied"), "{response:?}");
    assert_eq!(response.get("state"), Some(wider.state()));
    assert_eq!(response.get("code"), None);

    // Denying the wider set did not forget the narrower one.
    let again = sign_in(&mut browser, &Authorize::new(WEB, scope), &ALICE).await;
    assert!(!again.saw_login && !again.saw_consent);
    sigil.wait_for_event("consent_granted").await.unwrap();
}

#[tokio::test]
async fn prompt_login_and_max_age_ask_for_the_password_again() {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");
    let scope = "openid profile";
    let first_request = Authorize::new(WEB, scope);
    let tokens = sign_in_and_redeem(&mut browser, &first_request, &ALICE, &token_url).await;
    let first_auth = verified(&sigil, WEB.id, field(&tokens, "id_token")).await["auth_time"]
        .as_u64()
        .unwrap();

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let request = Authorize::new(WEB, scope).set("prompt", "login");
    let page = open(&mut browser, &request).await;
    assert!(is_login_page(&page), "prompt=login: {page:#?}");
    let page = log_in(&mut browser, &page, &ALICE).await;
    let response = callback(&browser, &page);
    let tokens = redeem_ok(&token_url, &request, response.require("code").unwrap()).await;
    let second_auth = verified(&sigil, WEB.id, field(&tokens, "id_token")).await["auth_time"]
        .as_u64()
        .unwrap();
    assert!(second_auth > first_auth, "{second_auth} after {first_auth}");

    // A recent enough sign-in satisfies max_age; an older one does not.
    let recent = Authorize::new(WEB, scope).set("max_age", "3600");
    let page = open(&mut browser, &recent).await;
    assert!(callback(&browser, &page).get("code").is_some());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let stale = Authorize::new(WEB, scope).set("max_age", "1");
    let page = open(&mut browser, &stale).await;
    assert!(is_login_page(&page), "max_age=1 after 2 s: {page:#?}");
}

/// Logs `request` in through the login page, and lets the clock enter a new second between
/// the login post and the browser carrying on (a slow browser, or an unlucky moment).
async fn log_in_across_a_second(browser: &mut Browser, request: &Authorize) -> Page {
    let page = open(browser, request).await;
    assert!(is_login_page(&page), "{page:#?}");
    let posted = post_credentials(browser, &page, &ALICE).await;
    assert_eq!(posted.status, 302, "{posted:#?}");
    tokio::time::sleep(until_the_next_second()).await;
    browser.follow(posted).await.unwrap()
}

#[tokio::test]
async fn the_sign_in_done_for_a_request_satisfies_it_across_second_boundaries() {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");

    // max_age=0 (and prompt=login): the login this request asked for answers it, however
    // long the browser took to come back.
    for (name, value) in [("max_age", "0"), ("prompt", "login")] {
        let request = Authorize::new(FIRST_PARTY, "openid").set(name, value);
        let page = log_in_across_a_second(&mut browser, &request).await;
        assert!(
            !is_login_page(&page),
            "{name}={value} asked again: {page:#?}"
        );
        let response = callback(&browser, &page);
        let tokens = redeem_ok(&token_url, &request, response.require("code").unwrap()).await;
        let claims = verified(&sigil, FIRST_PARTY.id, field(&tokens, "id_token")).await;
        assert!(claims["auth_time"].as_u64().is_some(), "{claims}");
    }

    // The same with the consent page on the way: the sign-in still counts after the
    // consent post, a second later.
    for (name, value) in [("max_age", "0"), ("prompt", "login consent")] {
        let request = Authorize::new(WEB, "openid profile").set(name, value);
        let page = log_in_across_a_second(&mut browser, &request).await;
        assert!(is_consent_page(&page), "{name}={value}: {page:#?}");
        tokio::time::sleep(until_the_next_second()).await;
        let page = decide(&mut browser, &page, "allow", true).await;
        assert!(
            !is_login_page(&page),
            "{name}={value} asked again: {page:#?}"
        );
        let response = callback(&browser, &page);
        redeem_ok(&token_url, &request, response.require("code").unwrap()).await;
    }
}

#[tokio::test]
async fn prompt_login_right_after_a_sign_in_asks_for_the_password_again() {
    let (sigil, _) = start().await;
    // Each round signs in and at once asks again with prompt=login, starting early in a
    // second so that both usually fall in the same second of the server's clock.
    for round in 0..3 {
        let mut browser = Browser::new(&sigil.base_url).unwrap();
        tokio::time::sleep(until_the_next_second()).await;
        let started = now();
        let signed = sign_in(&mut browser, &Authorize::new(FIRST_PARTY, "openid"), &ALICE).await;
        assert!(signed.saw_login);
        let again = Authorize::new(FIRST_PARTY, "openid").set("prompt", "login");
        let page = open(&mut browser, &again).await;
        let same_second = now() == started;
        assert!(
            is_login_page(&page),
            "round {round} (same second: {same_second}): prompt=login answered without a new sign-in: {page:#?}"
        );
        // max_age=0 is prompt=login (OIDC Core §3.1.2.1).
        let zero = Authorize::new(FIRST_PARTY, "openid").set("max_age", "0");
        let page = open(&mut browser, &zero).await;
        assert!(is_login_page(&page), "round {round}: max_age=0: {page:#?}");
    }
}

#[tokio::test]
async fn prompt_none_with_an_id_token_hint_answers_only_for_that_user() {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");
    let scope = "openid profile";
    let id_token_of = |tokens: &serde_json::Value| field(tokens, "id_token").to_owned();

    let request = Authorize::new(WEB, scope);
    let alices = id_token_of(&sign_in_and_redeem(&mut browser, &request, &ALICE, &token_url).await);
    let mut other = Browser::new(&sigil.base_url).unwrap();
    let request = Authorize::new(WEB, scope);
    let bobs = id_token_of(&sign_in_and_redeem(&mut other, &request, &BOB, &token_url).await);
    let silent = |hint: &str| {
        Authorize::new(WEB, scope)
            .set("prompt", "none")
            .set("id_token_hint", hint)
    };

    // Alice's browser, her own hint: a code.
    let silent_alice = silent(&alices);
    let response = respond_without_pages(&mut browser, &silent_alice).await;
    let code = response.require("code").unwrap();
    redeem_ok(&token_url, &silent_alice, code).await;

    // Alice's browser, Bob's hint: login_required, no code.
    let silent_bob = silent(&bobs);
    let response = respond_without_pages(&mut browser, &silent_bob).await;
    assert_eq!(
        response.get("error"),
        Some("login_required"),
        "{response:?}"
    );
    assert_eq!(response.get("code"), None);
    assert_eq!(response.get("state"), Some(silent_bob.state()));

    // Without prompt=none, Bob's hint asks whoever is at Alice's browser to sign in.
    let hinted = Authorize::new(WEB, scope).set("id_token_hint", &bobs);
    let page = open(&mut browser, &hinted).await;
    assert!(is_login_page(&page), "{page:#?}");

    // A hint that is not an ID token from this server: invalid_request, at the client.
    let (signed_part, _) = alices.rsplit_once('.').unwrap();
    for forged in [format!("{signed_part}.AAAA"), "x.y.z".to_owned()] {
        let response = respond_without_pages(&mut browser, &silent(&forged)).await;
        assert_eq!(
            response.get("error"),
            Some("invalid_request"),
            "{response:?}"
        );
        assert_eq!(response.get("code"), None);
    }
}

#[tokio::test]
async fn logout_with_id_token_hint_ends_the_session_everywhere() {
    let (sigil, mut browser) = start().await;
    let request = Authorize::new(WEB, "openid profile");
    let tokens =
        sign_in_and_redeem(&mut browser, &request, &ALICE, &sigil.url("/connect/token")).await;
    let id_token = field(&tokens, "id_token");
    let old_session = browser
        .cookie("sigil_session")
        .expect("a session cookie after signing in")
        .to_owned();

    let logout = browser.issuer_url(&format!(
        "/connect/endsession?{}",
        form(&[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", WEB.post_logout_redirect_uri),
            ("state", "bye 1&2"),
        ])
    ));
    let page = browser.get(&logout).await.unwrap();
    assert_eq!(page.status, 302, "{page:#?}");
    let target = reqwest::Url::parse(&page.redirect_target().unwrap().unwrap()).unwrap();
    assert_eq!(
        format!(
            "{}://{}{}",
            target.scheme(),
            target.authority(),
            target.path()
        ),
        WEB.post_logout_redirect_uri
    );
    let pairs: Vec<(String, String)> = target.query_pairs().into_owned().collect();
    assert_eq!(pairs, [("state".to_owned(), "bye 1&2".to_owned())]);
    let cleared = page
        .set_cookie("sigil_session")
        .unwrap_or_else(|| panic!("the session cookie is not cleared: {page:#?}"));
    assert!(cleared.expired(), "{cleared:?}");
    assert_eq!(browser.cookie("sigil_session"), None);

    let check = Authorize::new(WEB, "openid profile").set("prompt", "none");
    let page = open(&mut browser, &check).await;
    assert_eq!(
        callback(&browser, &page).get("error"),
        Some("login_required")
    );

    // The server forgot the session too: the old cookie, replayed, signs nobody in.
    let mut replay = Browser::new(&sigil.base_url).unwrap();
    replay.set_cookie("sigil_session", &old_session);
    let page = replay.open(&check.url(&replay)).await.unwrap();
    assert_eq!(
        callback(&replay, &page).get("error"),
        Some("login_required"),
        "a logged-out session cookie still works"
    );
    sigil.wait_for_event("logout").await.unwrap();
}

#[tokio::test]
async fn logout_without_a_hint_asks_for_confirmation() {
    let (_sigil, mut browser) = start().await;
    sign_in(&mut browser, &Authorize::new(WEB, "openid"), &ALICE).await;
    let page = browser
        .open(&browser.issuer_url("/connect/endsession"))
        .await
        .unwrap();
    assert_eq!(page.status, 200, "{page:#?}");
    let confirm = page.form("/connect/endsession").unwrap();
    assert!(confirm.method.eq_ignore_ascii_case("post"));
    assert!(confirm.value("csrf").is_some(), "{confirm:?}");
    assert_eq!(confirm.buttons("confirm"), ["yes"]);

    // Only confirming signs out: the page alone did not.
    let check = Authorize::new(WEB, "openid").set("prompt", "none");
    let still = open(&mut browser, &check).await;
    assert!(callback(&browser, &still).get("code").is_some());

    let done = browser
        .submit(&page, &confirm, &confirm.fill(&[("confirm", "yes")]))
        .await
        .unwrap();
    assert!(done.status < 400, "{done:#?}");
    let check = Authorize::new(WEB, "openid").set("prompt", "none");
    let after = open(&mut browser, &check).await;
    assert_eq!(
        callback(&browser, &after).get("error"),
        Some("login_required")
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_may_narrow_the_scope() {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");

    // Without offline_access there is no refresh token.
    let request = Authorize::new(WEB, "openid profile");
    let tokens = sign_in_and_redeem(&mut browser, &request, &ALICE, &token_url).await;
    assert_eq!(tokens.get("refresh_token"), None, "{tokens}");

    let request = Authorize::new(WEB, WEB_SCOPES);
    let tokens = sign_in_and_redeem(&mut browser, &request, &ALICE, &token_url).await;
    let first_refresh = field(&tokens, "refresh_token");

    let answer = refresh(&token_url, WEB, first_refresh, None).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.cache_control.as_deref(), Some("no-store"));
    let rotated = answer.body;
    let second_refresh = field(&rotated, "refresh_token");
    assert_ne!(second_refresh, first_refresh, "rotation");
    assert_ne!(
        field(&rotated, "access_token"),
        field(&tokens, "access_token")
    );
    assert_eq!(scopes(field(&rotated, "scope")), scopes(WEB_SCOPES));
    let claims = verified(&sigil, WEB.id, field(&rotated, "id_token")).await;
    assert_eq!(claims["sub"], ALICE.subject);
    let info = userinfo(
        &sigil.url("/connect/userinfo"),
        field(&rotated, "access_token"),
    )
    .await;
    assert_eq!(info.body["sub"], ALICE.subject, "{info:?}");

    let answer = refresh(&token_url, WEB, second_refresh, None).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let third_refresh = field(&answer.body, "refresh_token").to_owned();

    let narrowed = refresh(&token_url, WEB, &third_refresh, Some("openid orders.read")).await;
    assert_eq!(narrowed.status, 200, "{:?}", narrowed.body);
    assert_eq!(
        scopes(field(&narrowed.body, "scope")),
        scopes("openid orders.read")
    );
    let fourth_refresh = field(&narrowed.body, "refresh_token");
    let wider = refresh(&token_url, WEB, fourth_refresh, Some("openid orders.write")).await;
    assert_eq!(wider.status, 400, "{:?}", wider.body);
    assert_eq!(wider.body["error"], "invalid_scope");
}

#[tokio::test]
async fn a_public_spa_redeems_its_code_with_its_client_id_and_verifier() {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");
    let request = Authorize::new(SPA, "openid profile offline_access orders.read");
    let tokens = sign_in_and_redeem(&mut browser, &request, &ALICE, &token_url).await;
    let claims = verified(&sigil, SPA.id, field(&tokens, "id_token")).await;
    assert_eq!(claims["sub"], ALICE.subject);
    assert_eq!(claims["nonce"], request.nonce());
    let answer = refresh(&token_url, SPA, field(&tokens, "refresh_token"), None).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

#[tokio::test]
async fn implicit_id_token_token_returns_both_in_the_fragment() {
    let (sigil, mut browser) = start().await;
    let request = Authorize::new(IMPLICIT, "openid profile")
        .without_pkce()
        .set("response_type", "id_token token");
    let response = sign_in(&mut browser, &request, &ALICE).await.callback;
    assert_eq!(response.mode, ResponseMode::Fragment, "{response:?}");
    assert_eq!(response.get("state"), Some(request.state()));
    assert_eq!(response.get("code"), None);
    let access_token = response.require("access_token").unwrap();
    assert!(
        response
            .require("token_type")
            .unwrap()
            .eq_ignore_ascii_case("bearer")
    );
    let claims = verified(&sigil, IMPLICIT.id, response.require("id_token").unwrap()).await;
    assert_eq!(claims["sub"], ALICE.subject);
    assert_eq!(claims["nonce"], request.nonce());
    assert_eq!(claims["at_hash"], half_sha256(access_token));
    let info = userinfo(&sigil.url("/connect/userinfo"), access_token).await;
    assert_eq!(info.body["sub"], ALICE.subject, "{info:?}");
}

#[tokio::test]
async fn implicit_id_token_alone_carries_the_profile_claims() {
    let (sigil, mut browser) = start().await;
    let request = Authorize::new(IMPLICIT, "openid profile")
        .without_pkce()
        .set("response_type", "id_token");
    let response = sign_in(&mut browser, &request, &ALICE).await.callback;
    assert_eq!(response.mode, ResponseMode::Fragment, "{response:?}");
    assert_eq!(response.get("access_token"), None, "{response:?}");
    let id_token = response.require("id_token").unwrap();
    // RFC 7519 §4: claim names are unique (parsers may reject duplicates, as this one does).
    let claims = verified(&sigil, IMPLICIT.id, id_token).await;
    assert_eq!(claims["sub"], ALICE.subject);
    assert_eq!(claims["nonce"], request.nonce());
    assert_eq!(claims.get("at_hash"), None);
    // No access token to fetch them with: the profile claims are in the ID token (OIDC §5.4).
    assert_eq!(claims["name"], "Alice Example", "{claims}");
}

#[tokio::test]
async fn implicit_needs_a_nonce_and_a_client_that_opted_in() {
    let (_sigil, mut browser) = start().await;
    // OIDC Core §3.2.2.1.
    let request = Authorize::new(IMPLICIT, "openid profile")
        .without_pkce()
        .set("response_type", "id_token")
        .unset("nonce");
    let response = sign_in(&mut browser, &request, &ALICE).await.callback;
    assert_eq!(
        response.get("error"),
        Some("invalid_request"),
        "{response:?}"
    );
    assert_eq!(response.get("state"), Some(request.state()));
    assert_eq!(response.get("id_token"), None);

    let request = Authorize::new(WEB, "openid profile").set("response_type", "id_token token");
    let response = sign_in(&mut browser, &request, &ALICE).await.callback;
    assert!(
        matches!(
            response.get("error"),
            Some("unauthorized_client" | "unsupported_response_type")
        ),
        "{response:?}"
    );
    assert_eq!(response.get("access_token"), None);
    assert_eq!(response.get("id_token"), None);
}

#[tokio::test]
async fn the_authorization_endpoint_takes_a_posted_form_too() {
    let (sigil, mut browser) = start().await;
    let request = Authorize::new(WEB, "openid");
    let pairs = posted_pairs(&request, &[]);
    let posted = browser
        .post_form(&browser.issuer_url("/connect/authorize"), &pairs)
        .await
        .unwrap();
    let mut page = browser.follow(posted).await.unwrap();
    assert!(is_login_page(&page), "{page:#?}");
    page = log_in(&mut browser, &page, &ALICE).await;
    page = decide(&mut browser, &page, "allow", false).await;
    let response = callback(&browser, &page);
    assert_eq!(response.get("state"), Some(request.state()));
    redeem_ok(
        &sigil.url("/connect/token"),
        &request,
        response.require("code").unwrap(),
    )
    .await;
}

#[tokio::test]
async fn prompt_consent_asks_again_even_when_remembered() {
    let (_sigil, mut browser) = start().await;
    let scope = "openid profile";
    sign_in(&mut browser, &Authorize::new(WEB, scope), &ALICE).await;
    let remembered = sign_in(&mut browser, &Authorize::new(WEB, scope), &ALICE).await;
    assert!(!remembered.saw_consent);
    let request = Authorize::new(WEB, scope).set("prompt", "consent");
    let asked = sign_in(&mut browser, &request, &ALICE).await;
    assert!(!asked.saw_login && asked.saw_consent);
    assert!(asked.callback.get("code").is_some());
}

#[tokio::test]
async fn sign_ins_and_remembered_consent_expire() {
    let (_sigil, mut browser) = start_with(
        "sessions: { cookie_secure: false }",
        "sessions: { cookie_secure: false, lifetime: 4s, consent_lifetime: 1s }",
    )
    .await;
    let scope = "openid profile";
    let first = sign_in(&mut browser, &Authorize::new(WEB, scope), &ALICE).await;
    assert!(first.saw_login && first.saw_consent);

    // Past the consent lifetime, within the sign-in's: consent again, no password.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let second = sign_in(&mut browser, &Authorize::new(WEB, scope), &ALICE).await;
    assert!(!second.saw_login, "the sign-in lasts 4 s");
    assert!(second.saw_consent, "remembered consent lasts 1 s");

    // Past the sign-in's lifetime: prompt=none fails, and the login page is back.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let silent = Authorize::new(WEB, scope).set("prompt", "none");
    let page = open(&mut browser, &silent).await;
    assert_eq!(
        callback(&browser, &page).get("error"),
        Some("login_required")
    );
    let page = browser
        .open(&Authorize::new(WEB, scope).url(&browser))
        .await
        .unwrap();
    assert!(is_login_page(&page), "{page:#?}");
}

/// `request`'s parameters, and `extra` after them, as a form posts them.
fn posted_pairs<'a>(
    request: &'a Authorize,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "prompt",
    ]
    .into_iter()
    .filter_map(|name| Some((name, request.param(name)?)))
    .chain(extra.iter().copied())
    .collect()
}

#[tokio::test]
async fn an_authorization_request_posted_from_another_site_keeps_single_sign_on() {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");
    let first = sign_in(
        &mut browser,
        &Authorize::new(WEB, "openid orders.read"),
        &ALICE,
    )
    .await;
    assert!(first.saw_login && first.saw_consent);
    let authorize = browser.issuer_url("/connect/authorize");

    // Another site's form: no SameSite=Lax cookie comes with it. The same request comes back
    // as a GET (a top-level navigation, which carries the cookies), and nothing is set.
    for prompt in ["", "none"] {
        let request = Authorize::new(WEB, "openid orders.read").set("prompt", prompt);
        let request = if prompt.is_empty() {
            request.unset("prompt")
        } else {
            request
        };
        let pairs = posted_pairs(&request, &[("resource", "https://orders.test")]);
        let posted = post_from_another_site(&mut browser, &authorize, &pairs).await;
        assert_eq!(posted.status, 303, "prompt={prompt}: {posted:#?}");
        assert!(posted.set_cookies.is_empty(), "{posted:#?}");
        let target = posted.redirect_target().unwrap().unwrap();
        assert!(target.starts_with(&authorize), "{target}");
        let carried: Vec<(String, String)> = reqwest::Url::parse(&target)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        let sent: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        assert_eq!(carried, sent, "the same parameters, in order");
        let page = browser.follow(posted).await.unwrap();
        let response = callback(&browser, &page);
        assert_eq!(response.get("state"), Some(request.state()));
        let code = response.require("code").unwrap();
        redeem_ok(&token_url, &request, code).await;
    }

    // A post that carries the session cookie (from the server's own site) is answered as is.
    let request = Authorize::new(WEB, "openid").set("prompt", "none");
    let posted = browser
        .post_form(&authorize, &posted_pairs(&request, &[]))
        .await
        .unwrap();
    assert_eq!(posted.status, 302, "{posted:#?}");
    assert!(callback(&browser, &posted).get("code").is_some());

    // A request too long to travel in an address is answered where it was posted: it still
    // gets a sign-in, without the session it could not see.
    let long = "x".repeat(9000);
    let request = Authorize::new(WEB, "openid");
    let pairs = posted_pairs(&request, &[("ui_locales", &long)]);
    let posted = post_from_another_site(&mut browser, &authorize, &pairs).await;
    assert_eq!(posted.status, 302, "{posted:#?}");
    assert!(posted.set_cookies.is_empty(), "{posted:#?}");
    let page = browser.follow(posted).await.unwrap();
    assert!(is_login_page(&page), "{page:#?}");
}

#[tokio::test]
async fn prompt_select_account_lets_the_user_choose_another_account() {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");
    sign_in(&mut browser, &Authorize::new(WEB, "openid"), &ALICE).await;

    // Signed in as Alice, the app asks the user to choose: the login page, naming no account
    // (not even the hint's), where the user signs in as Bob.
    let request = Authorize::new(WEB, "openid")
        .set("prompt", "select_account")
        .set("login_hint", ALICE.username);
    let page = open(&mut browser, &request).await;
    assert!(is_login_page(&page), "{page:#?}");
    let username = page.form("/account/login").unwrap();
    assert_eq!(username.value("username"), Some(""), "{}", page.body);
    let page = log_in(&mut browser, &page, &BOB).await;
    let page = decide(&mut browser, &page, "allow", true).await;
    let response = callback(&browser, &page);
    let tokens = redeem_ok(&token_url, &request, response.require("code").unwrap()).await;
    let claims = verified(&sigil, WEB.id, field(&tokens, "id_token")).await;
    assert_eq!(claims["sub"], BOB.subject);

    // The browser's session is Bob's now.
    let silent = Authorize::new(WEB, "openid").set("prompt", "none");
    let response = respond_without_pages(&mut browser, &silent).await;
    let tokens = redeem_ok(&token_url, &silent, response.require("code").unwrap()).await;
    let claims = verified(&sigil, WEB.id, field(&tokens, "id_token")).await;
    assert_eq!(claims["sub"], BOB.subject);

    // Choosing an account is a page: with prompt=none it is an invalid request.
    let both = Authorize::new(WEB, "openid").set("prompt", "none select_account");
    let response = respond_without_pages(&mut browser, &both).await;
    assert_eq!(
        response.get("error"),
        Some("invalid_request"),
        "{response:?}"
    );
}
