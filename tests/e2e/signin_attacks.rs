//! Sign-in under attack: stolen and replayed codes, PKCE downgrades, tampered redirect URIs,
//! open redirects, login and consent CSRF, refresh token reuse, mixed-up nonces and states.
//! Each attack must fail in the way a client or user can see, and change nothing.

use sigil_e2e::signin::{
    ALICE, Authorize, BOB, LEGACY, PORTAL, SPA, TestClient, WEB, WEB_SCOPES, assert_error_page,
    assert_invalid_grant, callback, field, is_active, is_consent_page, is_login_page, log_in, open,
    post_from_another_site, redeem, redeem_as, redeem_ok, refresh, respond_without_pages, rotated,
    sign_in, sign_in_and_redeem, start, start_with, token_request, userinfo, verified,
    web_refresh_token,
};
use sigil_e2e::{API_SECRET, CLIENT_SECRET};
use sigil_testkit::SigilDev;
use sigil_testkit::browser::{Browser, Page, ResponseMode};
use sigil_testkit::client::{Answer, basic, form, post_form};
use sigil_testkit::pkce::Pkce;
use std::time::Duration;

/// A margin past `web`'s refresh grace period (2 s in `signin.yaml`).
const PAST_GRACE: Duration = Duration::from_millis(3500);

/// Signs Alice in for `request` and returns the code.
async fn code_for(browser: &mut Browser, request: &Authorize) -> String {
    let signed = sign_in(browser, request, &ALICE).await;
    signed.callback.require("code").unwrap().to_owned()
}

async fn replayed_code_revokes_what_it_bought(client: TestClient, scope: &str) {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");
    let introspection = sigil.url("/connect/introspect");
    let request = Authorize::new(client, scope);
    let code = code_for(&mut browser, &request).await;
    let tokens = redeem_ok(&token_url, &request, &code).await;
    let access_token = field(&tokens, "access_token");
    let refresh_token = field(&tokens, "refresh_token");
    assert!(is_active(&introspection, client, access_token).await);
    assert!(is_active(&introspection, client, refresh_token).await);

    // The code is redeemed a second time (an attacker who intercepted it, or a replay).
    let replay = redeem(&token_url, &request, &code).await;
    assert_invalid_grant(&replay, "second redemption");

    // Everything the first redemption issued is revoked.
    assert_invalid_grant(
        &refresh(&token_url, client, refresh_token, None).await,
        "refresh token of a replayed code",
    );
    assert!(
        !is_active(&introspection, client, access_token).await,
        "the access token of a replayed code is still active"
    );
    assert!(
        !is_active(&introspection, client, refresh_token).await,
        "the refresh token of a replayed code is still active"
    );
    let info = userinfo(&sigil.url("/connect/userinfo"), access_token).await;
    assert_eq!(info.status, 401, "{info:?}");
    sigil.wait_for_event("code_replayed").await.unwrap();
}

#[tokio::test]
async fn a_replayed_code_revokes_the_jwt_access_and_refresh_tokens_it_bought() {
    replayed_code_revokes_what_it_bought(WEB, WEB_SCOPES).await;
}

#[tokio::test]
async fn pkce_cannot_be_skipped_downgraded_or_guessed() {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");

    // At the authorization endpoint: no challenge where PKCE is required, or `plain` where it
    // is not allowed, is an error sent back to the client.
    for (case, request) in [
        (
            "confidential client without a challenge",
            Authorize::new(WEB, "openid").without_pkce(),
        ),
        (
            "public client without a challenge",
            Authorize::new(SPA, "openid").without_pkce(),
        ),
        (
            "plain where only S256 is allowed",
            Authorize::new(WEB, "openid").with_pkce(Pkce::plain()),
        ),
        (
            "unknown challenge method",
            Authorize::new(WEB, "openid").set("code_challenge_method", "S512"),
        ),
    ] {
        let response = sign_in(&mut browser, &request, &ALICE).await.callback;
        assert_eq!(
            response.get("error"),
            Some("invalid_request"),
            "{case}: {response:?}"
        );
        assert_eq!(response.get("state"), Some(request.state()), "{case}");
        assert_eq!(response.get("code"), None, "{case}");
    }

    // At the token endpoint: a code issued with a challenge needs its verifier.
    let request = Authorize::new(WEB, "openid");
    let code = code_for(&mut browser, &request).await;
    let missing = redeem_as(&token_url, WEB, &code, WEB.redirect_uri, None).await;
    assert_invalid_grant(&missing, "no code_verifier");

    let request = Authorize::new(WEB, "openid");
    let code = code_for(&mut browser, &request).await;
    let mut wrong = request.clone();
    wrong.pkce = Pkce::s256();
    assert_invalid_grant(&redeem(&token_url, &wrong, &code).await, "another verifier");
    // The S256 challenge itself is not a verifier.
    let request = Authorize::new(WEB, "openid");
    let code = code_for(&mut browser, &request).await;
    let mut as_plain = request.clone();
    as_plain.pkce.verifier = request.pkce.challenge.clone();
    assert_invalid_grant(
        &redeem(&token_url, &as_plain, &code).await,
        "the challenge as verifier",
    );

    // A client that need not use PKCE: without a challenge it works...
    let request = Authorize::new(LEGACY, "openid").without_pkce();
    sign_in_and_redeem(&mut browser, &request, &ALICE, &token_url).await;
    // ...but a verifier for a code issued without a challenge is a downgrade (RFC 9700 §2.1.1).
    let request = Authorize::new(LEGACY, "openid").without_pkce();
    let code = code_for(&mut browser, &request).await;
    let downgraded = redeem_as(
        &token_url,
        LEGACY,
        &code,
        LEGACY.redirect_uri,
        Some(&request.pkce.verifier),
    )
    .await;
    assert_invalid_grant(
        &downgraded,
        "verifier for a code issued without a challenge",
    );
    // ...and once it sent a challenge, the verifier is required.
    let request = Authorize::new(LEGACY, "openid");
    let code = code_for(&mut browser, &request).await;
    let skipped = redeem_as(&token_url, LEGACY, &code, LEGACY.redirect_uri, None).await;
    assert_invalid_grant(&skipped, "a challenge was sent but no verifier");
}

#[tokio::test]
async fn a_tampered_redirect_uri_gets_an_error_page_never_a_redirect() {
    let (_sigil, mut browser) = start().await;
    // Signed in with consent, so nothing but the redirect URI stands in the way.
    sign_in(&mut browser, &Authorize::new(WEB, "openid"), &ALICE).await;

    for (case, redirect_uri) in [
        ("added path", "http://app.test/callback/evil"),
        (
            "added query",
            "http://app.test/callback?next=http://evil.test",
        ),
        ("different host case", "http://APP.test/callback"),
        ("different path case", "http://app.test/Callback"),
        ("trailing slash", "http://app.test/callback/"),
        ("userinfo", "http://evil@app.test/callback"),
        ("different port", "http://app.test:8080/callback"),
        ("explicit default port", "http://app.test:80/callback"),
        ("different scheme", "https://app.test/callback"),
        ("fragment", "http://app.test/callback#x"),
        ("host suffix", "http://app.test.evil.test/callback"),
        ("another client's", PORTAL.redirect_uri),
    ] {
        for prompt in [None, Some("none")] {
            let mut request = Authorize::new(WEB, "openid").set("redirect_uri", redirect_uri);
            if let Some(prompt) = prompt {
                request = request.set("prompt", prompt);
            }
            let page = browser.get(&request.url(&browser)).await.unwrap();
            assert_error_page(&page, &format!("{case} (prompt {prompt:?})"));
        }
    }
    let missing = Authorize::new(WEB, "openid").unset("redirect_uri");
    let page = browser.get(&missing.url(&browser)).await.unwrap();
    assert_error_page(&page, "no redirect_uri");
}

#[tokio::test]
async fn an_unknown_client_gets_an_error_page() {
    let (_sigil, mut browser) = start().await;
    for (case, request) in [
        (
            "unknown client",
            Authorize::new(WEB, "openid").set("client_id", "no-such-client"),
        ),
        (
            "no client_id",
            Authorize::new(WEB, "openid").unset("client_id"),
        ),
    ] {
        let page = browser.get(&request.url(&browser)).await.unwrap();
        assert_error_page(&page, case);
    }
}

#[tokio::test]
async fn scopes_beyond_the_clients_are_refused_at_authorize() {
    let (_sigil, mut browser) = start().await;
    let request = Authorize::new(WEB, "openid orders.write");
    let response = sign_in(&mut browser, &request, &ALICE).await.callback;
    assert_eq!(response.get("error"), Some("invalid_scope"), "{response:?}");
    assert_eq!(response.get("state"), Some(request.state()));
    assert_eq!(response.get("code"), None);
}

#[tokio::test]
async fn post_logout_redirect_uri_must_be_registered_for_the_hinted_client() {
    let (sigil, mut browser) = start().await;
    let request = Authorize::new(WEB, "openid");
    let tokens =
        sign_in_and_redeem(&mut browser, &request, &ALICE, &sigil.url("/connect/token")).await;
    let id_token = field(&tokens, "id_token");

    for (case, target) in [
        ("unregistered", "http://evil.test/"),
        ("added path", "http://app.test/signed-out/evil"),
        (
            "added query",
            "http://app.test/signed-out?next=http://evil.test",
        ),
        ("another client's", PORTAL.post_logout_redirect_uri),
    ] {
        let url = browser.issuer_url(&format!(
            "/connect/endsession?{}",
            form(&[
                ("id_token_hint", id_token),
                ("post_logout_redirect_uri", target),
                ("state", "s"),
            ])
        ));
        let page = browser.get(&url).await.unwrap();
        assert_error_page(&page, case);
    }

    // Refused logouts changed nothing: still signed in.
    let check = Authorize::new(WEB, "openid").set("prompt", "none");
    let response = respond_without_pages(&mut browser, &check).await;
    assert!(response.get("code").is_some(), "{response:?}");
}

/// Posts the login form of `page` with `pairs`, without following anything.
async fn post_login(browser: &mut Browser, page: &Page, pairs: &[(String, String)]) -> Page {
    let login = page.form("/account/login").unwrap();
    browser
        .post_form(&page.resolve(&login.action).unwrap(), pairs)
        .await
        .unwrap()
}

fn assert_refused_without_session(page: &Page, browser: &Browser, case: &str) {
    assert_eq!(page.status, 400, "{case}: {page:#?}");
    assert_eq!(page.location, None, "{case}");
    assert!(page.set_cookie("sigil_session").is_none(), "{case}");
    assert_eq!(browser.cookie("sigil_session"), None, "{case}");
}

#[tokio::test]
async fn login_csrf_is_refused() {
    let (sigil, mut browser) = start().await;
    let request = Authorize::new(WEB, "openid");
    let page = open(&mut browser, &request).await;
    assert!(is_login_page(&page), "{page:#?}");
    let login = page.form("/account/login").unwrap();
    let credentials = [("username", ALICE.username), ("password", ALICE.password)];

    // Another browser's login form: its csrf is bound to that browser's cookie.
    let mut other = Browser::new(&sigil.base_url).unwrap();
    let other_page = other.open(&request.url(&other)).await.unwrap();
    let other_csrf = other_page
        .form("/account/login")
        .unwrap()
        .value("csrf")
        .unwrap()
        .to_owned();
    assert_ne!(Some(other_csrf.as_str()), login.value("csrf"));

    let mut without_csrf = login.fill(&credentials);
    without_csrf.retain(|(name, _)| name != "csrf");
    let cases = [
        ("no csrf", without_csrf),
        (
            "garbage csrf",
            login.fill(&[credentials[0], credentials[1], ("csrf", "garbage")]),
        ),
        (
            "another browser's csrf",
            login.fill(&[
                credentials[0],
                credentials[1],
                ("csrf", other_csrf.as_str()),
            ]),
        ),
        (
            "tampered request",
            login.fill(&[credentials[0], credentials[1], ("request", "x")]),
        ),
    ];
    for (case, pairs) in &cases {
        let refused = post_login(&mut browser, &page, pairs).await;
        assert_refused_without_session(&refused, &browser, case);
    }

    // The right csrf without the cookie it is bound to.
    let saved = browser.cookie("sigil_browser").unwrap().to_owned();
    browser.remove_cookie("sigil_browser");
    let refused = post_login(&mut browser, &page, &login.fill(&credentials)).await;
    assert_refused_without_session(&refused, &browser, "csrf without its cookie");
    browser.set_cookie("sigil_browser", &saved);

    // The genuine form still works.
    let page = log_in(&mut browser, &page, &ALICE).await;
    assert!(is_consent_page(&page), "{page:#?}");
    assert!(browser.cookie("sigil_session").is_some());
}

#[tokio::test]
async fn consent_csrf_is_refused() {
    let (sigil, mut browser) = start().await;
    let request = Authorize::new(PORTAL, "openid profile");
    let mut page = open(&mut browser, &request).await;
    page = log_in(&mut browser, &page, &ALICE).await;
    assert!(is_consent_page(&page), "{page:#?}");
    let consent = page.form("/account/consent").unwrap();
    let action = page.resolve(&consent.action).unwrap();

    // Bob, in his own browser, at the same consent step.
    let mut bob = Browser::new(&sigil.base_url).unwrap();
    let mut bob_page = bob.open(&request.url(&bob)).await.unwrap();
    bob_page = log_in(&mut bob, &bob_page, &BOB).await;
    let bob_consent = bob_page.form("/account/consent").unwrap();

    let allow = [("decision", "allow"), ("remember", "on")];
    let mut without_csrf = consent.fill(&allow);
    without_csrf.retain(|(name, _)| name != "csrf");
    let bob_csrf = bob_consent.value("csrf").unwrap();
    let cases = [
        ("no csrf", without_csrf),
        (
            "garbage csrf",
            consent.fill(&[allow[0], allow[1], ("csrf", "garbage")]),
        ),
        (
            "another browser's csrf",
            consent.fill(&[allow[0], allow[1], ("csrf", bob_csrf)]),
        ),
        // Bob's whole form, submitted from Alice's browser (a forged cross-site post).
        ("another browser's form", bob_consent.fill(&allow)),
        (
            "tampered request",
            consent.fill(&[allow[0], allow[1], ("request", "x")]),
        ),
    ];
    for (case, pairs) in &cases {
        let refused = browser.post_form(&action, pairs).await.unwrap();
        assert_eq!(refused.status, 400, "{case}: {refused:#?}");
        assert_eq!(refused.location, None, "{case}");
    }

    // Nothing was consented to: prompt=none still needs consent.
    let check = Authorize::new(PORTAL, "openid profile").set("prompt", "none");
    let checked = open(&mut browser, &check).await;
    assert_eq!(
        callback(&browser, &checked).get("error"),
        Some("consent_required")
    );

    // The genuine form still works.
    let done = browser
        .submit(&page, &consent, &consent.fill(&allow))
        .await
        .unwrap();
    let response = callback(&browser, &done);
    assert_eq!(response.get("state"), Some(request.state()));
    assert!(response.get("code").is_some(), "{response:?}");
}

#[tokio::test]
async fn state_comes_back_exactly_in_every_response_mode() {
    let (_sigil, mut browser) = start().await;
    let odd = "a b+c&d=e/f?g#h%20i'j\"k<l>m;n,é☃\\";

    // An error before signing in (query).
    let request = Authorize::new(WEB, "openid")
        .set("state", odd)
        .set("prompt", "none");
    let response = respond_without_pages(&mut browser, &request).await;
    assert_eq!(response.get("error"), Some("login_required"));
    assert_eq!(response.get("state"), Some(odd), "error response");

    // A code (query), after the login and consent pages carried the request along.
    let request = Authorize::new(WEB, "openid").set("state", odd);
    let response = sign_in(&mut browser, &request, &ALICE).await.callback;
    assert_eq!(response.mode, ResponseMode::Query);
    assert_eq!(response.get("state"), Some(odd), "query");

    // Hybrid (fragment).
    let request = Authorize::new(WEB, "openid")
        .set("state", odd)
        .set("response_type", "code id_token");
    let response = sign_in(&mut browser, &request, &ALICE).await.callback;
    assert_eq!(response.mode, ResponseMode::Fragment);
    assert_eq!(response.get("state"), Some(odd), "fragment");

    // form_post: HTML-escaped in the page, the same value once the browser posts it.
    let request = Authorize::new(WEB, "openid")
        .set("state", odd)
        .set("response_mode", "form_post");
    let response = sign_in(&mut browser, &request, &ALICE).await.callback;
    assert_eq!(response.mode, ResponseMode::FormPost);
    assert_eq!(response.get("state"), Some(odd), "form_post");
}

#[tokio::test]
async fn each_id_token_carries_its_own_requests_nonce() {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let request = Authorize::new(WEB, "openid");
        let tokens = sign_in_and_redeem(&mut browser, &request, &ALICE, &token_url).await;
        let claims = verified(&sigil, WEB.id, field(&tokens, "id_token")).await;
        assert_eq!(claims["nonce"], request.nonce(), "the nonce sent");
        nonces.push(claims["nonce"].clone());
    }
    assert_ne!(
        nonces.first(),
        nonces.get(1),
        "a client checking one request's nonce must reject the other's ID token"
    );

    // No nonce sent, none in the ID token (the code flow does not require one).
    let request = Authorize::new(WEB, "openid").unset("nonce");
    let tokens = sign_in_and_redeem(&mut browser, &request, &ALICE, &token_url).await;
    let claims = verified(&sigil, WEB.id, field(&tokens, "id_token")).await;
    assert_eq!(claims.get("nonce"), None, "{claims}");
}

#[tokio::test]
async fn a_rotated_out_refresh_token_used_after_grace_revokes_the_family() {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");
    let first = web_refresh_token(&mut browser, &token_url).await;
    let successor = rotated(&token_url, WEB, &first).await;

    tokio::time::sleep(PAST_GRACE).await;
    assert_invalid_grant(
        &refresh(&token_url, WEB, &first, None).await,
        "rotated-out token after the grace period",
    );
    assert_invalid_grant(
        &refresh(&token_url, WEB, &successor, None).await,
        "the successor of a reused token",
    );
    sigil
        .wait_for_event("refresh_reuse_detected")
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unknown_user_and_a_wrong_password_look_the_same() {
    let (sigil, mut browser) = start().await;
    let page = browser
        .open(&Authorize::new(WEB, "openid").url(&browser))
        .await
        .unwrap();
    for (username, password) in [
        ("alice", "wrong"),
        ("mallory", "wrong"),
        ("mallory", ALICE.password),
    ] {
        let login = page.form("/account/login").unwrap();
        let answer = browser
            .submit(
                &page,
                &login,
                &login.fill(&[("username", username), ("password", password)]),
            )
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{username}: {answer:#?}");
        assert!(
            answer.body.contains("Invalid username or password"),
            "{username}: {}",
            answer.body
        );
        assert!(is_login_page(&answer));
        assert_eq!(browser.cookie("sigil_session"), None);
    }
    sigil.wait_for_event("login_failed").await.unwrap();
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let from = "    refresh_token: { grace_period: 2s }\n";
    let (sigil, mut browser) = start_with(
        from,
        &format!("{from}    authorization_code_lifetime: 1s\n"),
    )
    .await;
    let request = Authorize::new(WEB, "openid");
    let code = code_for(&mut browser, &request).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_invalid_grant(
        &redeem(&sigil.url("/connect/token"), &request, &code).await,
        "a code past its lifetime",
    );
    // A fresh one, redeemed at once, works.
    let request = Authorize::new(WEB, "openid");
    sign_in_and_redeem(&mut browser, &request, &ALICE, &sigil.url("/connect/token")).await;
}

#[tokio::test]
async fn a_refresh_token_works_only_for_its_own_client() {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");
    let token = web_refresh_token(&mut browser, &token_url).await;
    assert_invalid_grant(
        &refresh(&token_url, PORTAL, &token, None).await,
        "another client's refresh token",
    );
    let public = token_request(
        &token_url,
        SPA,
        &[("grant_type", "refresh_token"), ("refresh_token", &token)],
    )
    .await;
    assert_ne!(public.status, 200, "{:?}", public.body);
    // Nor may another client revoke it (RFC 7009 §2.1): refused, and the token lives on.
    let revoked = post_form(
        &sigil.url("/connect/revocation"),
        Some(&basic(PORTAL.id, CLIENT_SECRET)),
        &form(&[("token", &token)]),
    )
    .await
    .unwrap();
    assert_eq!(revoked.status, 400, "{:?}", revoked.body);
    assert_eq!(revoked.body["error"], "unauthorized_client");
    assert_eq!(refresh(&token_url, WEB, &token, None).await.status, 200);
}

#[tokio::test]
async fn tokens_are_only_good_for_what_they_are() {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");
    let userinfo_url = sigil.url("/connect/userinfo");
    let request = Authorize::new(WEB, WEB_SCOPES);
    let code = code_for(&mut browser, &request).await;
    let tokens = redeem_ok(&token_url, &request, &code).await;
    let (access, id_token, refresh_token) = (
        field(&tokens, "access_token"),
        field(&tokens, "id_token"),
        field(&tokens, "refresh_token"),
    );

    // An ID token (signed by the same key) or a refresh token is not an access token.
    for (case, bearer) in [("ID token", id_token), ("refresh token", refresh_token)] {
        let info = userinfo(&userinfo_url, bearer).await;
        assert_eq!(info.status, 401, "{case} as bearer: {info:?}");
    }
    assert!(
        !is_active(&sigil.url("/connect/introspect"), WEB, id_token).await,
        "an ID token is active at introspection"
    );
    // An access token, an ID token or a code is not a refresh token.
    for (case, presented) in [
        ("access token", access),
        ("ID token", id_token),
        ("code", &code),
    ] {
        assert_invalid_grant(
            &refresh(&token_url, WEB, presented, None).await,
            &format!("{case} as refresh token"),
        );
    }
    // The real refresh token was not harmed by any of that.
    let answer = refresh(&token_url, WEB, refresh_token, None).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

/// `token` introspected with `who`'s credentials (`None`: a public client's bare `client_id`).
async fn introspect_as(sigil: &SigilDev, who: Option<(&str, &str)>, token: &str) -> Answer {
    let (authorization, body) = match who {
        Some((id, secret)) => (Some(basic(id, secret)), form(&[("token", token)])),
        None => (None, form(&[("token", token), ("client_id", SPA.id)])),
    };
    post_form(
        &sigil.url("/connect/introspect"),
        authorization.as_deref(),
        &body,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_refresh_token_introspects_for_its_own_client_until_rotated() {
    let (sigil, mut browser) = start().await;
    let token_url = sigil.url("/connect/token");
    let first = web_refresh_token(&mut browser, &token_url).await;

    // RFC 7662 covers refresh tokens: the client that holds one may ask about it.
    let seen = introspect_as(&sigil, Some((WEB.id, CLIENT_SECRET)), &first).await;
    assert_eq!(seen.status, 200, "{:?}", seen.body);
    assert_eq!(seen.body["active"], true, "{:?}", seen.body);
    assert_eq!(seen.body["client_id"], WEB.id);
    assert_eq!(seen.body["iss"], sigil.base_url.as_str());
    assert!(seen.body["sub"].as_str().is_some_and(|sub| !sub.is_empty()));
    assert!(
        seen.body["scope"]
            .as_str()
            .unwrap()
            .contains("offline_access")
    );
    assert!(seen.body["exp"].as_u64() > seen.body["iat"].as_u64());

    // Nobody else learns anything about it: another client, an API, a public client.
    for who in [
        (PORTAL.id, CLIENT_SECRET),
        ("https://orders.test", API_SECRET),
    ] {
        let other = introspect_as(&sigil, Some(who), &first).await;
        assert_eq!(
            other.body,
            serde_json::json!({ "active": false }),
            "{}",
            who.0
        );
    }
    let public = introspect_as(&sigil, None, &first).await;
    assert_eq!(
        public.status, 401,
        "a bare client_id introspected: {:?}",
        public.body
    );
    assert_eq!(public.body["error"], "invalid_client");
    assert!(public.body.get("active").is_none());

    // Rotated out, it is spent; its successor is the live one.
    let successor = rotated(&token_url, WEB, &first).await;
    assert!(!is_active(&sigil.url("/connect/introspect"), WEB, &first).await);
    assert!(is_active(&sigil.url("/connect/introspect"), WEB, &successor).await);
}

#[tokio::test]
async fn a_forged_or_foreign_session_cookie_signs_nobody_in() {
    let (sigil, mut browser) = start().await;
    sign_in(&mut browser, &Authorize::new(WEB, "openid"), &ALICE).await;
    let genuine = browser.cookie("sigil_session").unwrap().to_owned();

    // Another deployment (another session secret) does not accept this one's cookie.
    let (_elsewhere, mut foreign) = start().await;
    let mut forged = Browser::new(&sigil.base_url).unwrap();
    foreign.set_cookie("sigil_session", &genuine);
    // One character in the middle changed (the last may only carry padding bits).
    let mut flipped = genuine.clone().into_bytes();
    if let Some(middle) = flipped.get_mut(genuine.len() / 2) {
        *middle = if *middle == b'A' { b'B' } else { b'A' };
    }
    forged.set_cookie("sigil_session", &String::from_utf8(flipped).unwrap());
    let mut garbage = Browser::new(&sigil.base_url).unwrap();
    garbage.set_cookie("sigil_session", "garbage");

    for (case, visitor) in [
        ("a cookie from another deployment", &mut foreign),
        ("a cookie with one character changed", &mut forged),
        ("garbage", &mut garbage),
    ] {
        let silent = Authorize::new(WEB, "openid").set("prompt", "none");
        let page = visitor.open(&silent.url(visitor)).await.unwrap();
        let response = callback(visitor, &page);
        assert_eq!(
            response.get("error"),
            Some("login_required"),
            "{case}: {response:?}"
        );
        let page = visitor
            .open(&Authorize::new(WEB, "openid").url(visitor))
            .await
            .unwrap();
        assert!(is_login_page(&page), "{case}: {page:#?}");
    }
}

#[tokio::test]
async fn pages_do_not_reflect_markup_from_the_request() {
    let (_sigil, mut browser) = start().await;
    let script = "<script>alert(1)</script>";

    // Error pages name what was wrong without letting it become markup.
    for (case, request) in [
        (
            "client_id",
            Authorize::new(WEB, "openid").set("client_id", script),
        ),
        (
            "redirect_uri",
            Authorize::new(WEB, "openid")
                .set("redirect_uri", &format!("http://app.test/\"><x>{script}")),
        ),
    ] {
        let page = browser.get(&request.url(&browser)).await.unwrap();
        assert_error_page(&page, case);
        assert!(!page.body.contains(script), "{case}: {}", page.body);
    }

    // The login page shown again after a failure does not echo the username as markup.
    let page = browser
        .open(&Authorize::new(WEB, "openid").url(&browser))
        .await
        .unwrap();
    let login = page.form("/account/login").unwrap();
    let username = format!("\"><img src=x onerror=alert(1)>{script}");
    let again = browser
        .submit(
            &page,
            &login,
            &login.fill(&[("username", username.as_str()), ("password", "x")]),
        )
        .await
        .unwrap();
    assert_eq!(again.status, 200, "{again:#?}");
    assert!(!again.body.contains(script), "{}", again.body);
    assert!(!again.body.contains("<img src=x"), "{}", again.body);
}

#[tokio::test]
async fn logout_confirmation_needs_its_csrf_token() {
    let (sigil, mut browser) = start().await;
    sign_in(&mut browser, &Authorize::new(WEB, "openid"), &ALICE).await;
    let page = browser
        .open(&browser.issuer_url("/connect/endsession"))
        .await
        .unwrap();
    let confirm = page.form("/connect/endsession").unwrap();
    let action = page.resolve(&confirm.action).unwrap();

    // A forged logout (posted from another site, or by another browser's form) does nothing.
    let mut other = Browser::new(&sigil.base_url).unwrap();
    let other_page = other
        .open(&other.issuer_url("/connect/endsession"))
        .await
        .unwrap();
    let other_csrf = other_page
        .form("/connect/endsession")
        .map(|form| form.value("csrf").unwrap_or_default().to_owned())
        .unwrap_or_default();
    let mut without_csrf = confirm.fill(&[("confirm", "yes")]);
    without_csrf.retain(|(name, _)| name != "csrf");
    for (case, pairs) in [
        ("no csrf", without_csrf),
        (
            "garbage csrf",
            confirm.fill(&[("confirm", "yes"), ("csrf", "garbage")]),
        ),
        (
            "another browser's csrf",
            confirm.fill(&[("confirm", "yes"), ("csrf", other_csrf.as_str())]),
        ),
    ] {
        let refused = browser.post_form(&action, &pairs).await.unwrap();
        assert_eq!(refused.status, 400, "{case}: {refused:#?}");
        let check = Authorize::new(WEB, "openid").set("prompt", "none");
        let still = open(&mut browser, &check).await;
        assert!(
            callback(&browser, &still).get("code").is_some(),
            "{case}: a forged logout signed the user out"
        );
    }
}

/// Sends `pairs` to the end-session endpoint as another site's form post arrives. The server
/// cannot see who is signed in, so it must touch no cookie (neither clear the session nor
/// replace the browser id the open forms are bound to) and send the browser to the same
/// request as a `GET`, a top-level navigation, which carries the cookies. Returns the answer
/// to that `GET`, sent as the browser sends it.
async fn cross_site_logout(browser: &mut Browser, pairs: &[(&str, &str)]) -> Page {
    let url = browser.issuer_url("/connect/endsession");
    let page = post_from_another_site(browser, &url, pairs).await;
    assert!(
        page.set_cookies.is_empty(),
        "a request that proved nothing set cookies: {page:#?}"
    );
    assert_eq!(page.status, 303, "{page:#?}");
    let target = page.redirect_target().unwrap().unwrap();
    let parsed = reqwest::Url::parse(&target).unwrap();
    assert!(target.starts_with(&url), "{target}");
    assert_eq!(parsed.path(), "/connect/endsession");
    let carried: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    let expected: Vec<(String, String)> = pairs
        .iter()
        .filter(|(name, _)| !["confirm", "csrf"].contains(name))
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    assert_eq!(carried, expected, "{target}");
    browser.get(&target).await.unwrap()
}

/// Asserts `page` is the logout confirmation and set no cookie.
fn assert_confirmation_only(page: &Page, case: &str) {
    assert_eq!(page.status, 200, "{case}: {page:#?}");
    assert!(page.form("/connect/endsession").is_ok(), "{case}");
    assert!(page.set_cookies.is_empty(), "{case}: {page:#?}");
}

#[tokio::test]
async fn a_cross_site_logout_post_does_not_clear_the_session_cookie() {
    let (sigil, mut browser) = start().await;
    let request = Authorize::new(WEB, "openid");
    let tokens =
        sign_in_and_redeem(&mut browser, &request, &ALICE, &sigil.url("/connect/token")).await;
    let id_token = field(&tokens, "id_token");

    for (case, pairs) in [
        ("nothing", vec![]),
        ("confirm without csrf", vec![("confirm", "yes")]),
        (
            "a registered redirect",
            vec![
                ("client_id", WEB.id),
                ("post_logout_redirect_uri", WEB.post_logout_redirect_uri),
            ],
        ),
    ] {
        // Followed as a GET, with the cookies: the user is asked, nothing more.
        let page = cross_site_logout(&mut browser, &pairs).await;
        assert_confirmation_only(&page, case);
        let check = Authorize::new(WEB, "openid").set("prompt", "none");
        let response = respond_without_pages(&mut browser, &check).await;
        assert!(response.get("code").is_some(), "{case}: {response:?}");
    }

    // The application's own logout, posted from its site with the user's ID token: followed
    // as a GET, with the cookie, the hint names the signed-in user and the session ends, as
    // a GET from the application ends it.
    let hinted = [
        ("id_token_hint", id_token),
        ("post_logout_redirect_uri", WEB.post_logout_redirect_uri),
        ("state", "s"),
    ];
    let done = cross_site_logout(&mut browser, &hinted).await;
    assert_eq!(done.status, 302, "{done:#?}");
    assert_eq!(
        done.redirect_target().unwrap().as_deref(),
        Some(format!("{}?state=s", WEB.post_logout_redirect_uri).as_str())
    );
    let cleared = done
        .set_cookie("sigil_session")
        .unwrap_or_else(|| panic!("the logout did not clear the cookie: {done:#?}"));
    assert!(cleared.expired(), "{cleared:?}");
    let check = Authorize::new(WEB, "openid").set("prompt", "none");
    let response = respond_without_pages(&mut browser, &check).await;
    assert_eq!(
        response.get("error"),
        Some("login_required"),
        "{response:?}"
    );

    // Nobody signed in: neither a link nor a post sets a cookie-clearing header.
    let mut stranger = Browser::new(&sigil.base_url).unwrap();
    let page = stranger
        .get(&stranger.issuer_url("/connect/endsession"))
        .await
        .unwrap();
    assert!(page.set_cookie("sigil_session").is_none(), "{page:#?}");
    let page = cross_site_logout(&mut stranger, &[]).await;
    assert_eq!(page.status, 200, "{page:#?}");
    assert!(page.body.contains("signed out"), "{}", page.body);
    assert!(page.set_cookies.is_empty(), "{page:#?}");
}

#[tokio::test]
async fn posts_from_another_site_leave_an_open_login_form_working() {
    let (_sigil, mut browser) = start().await;
    let request = Authorize::new(WEB, "openid");
    let page = open(&mut browser, &request).await;
    assert!(is_login_page(&page), "{page:#?}");
    let form = page.form("/account/login").unwrap();
    let login_fields = form.fill(&[("username", ALICE.username), ("password", "guess")]);
    let login_fields: Vec<(&str, &str)> = login_fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let authorization: Vec<(&str, &str)> = [
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
    ]
    .into_iter()
    .map(|name| (name, request.param(name).unwrap()))
    .collect();

    // Another site's forms post to each browser-facing endpoint while the login page is open.
    // None of them may set a cookie: a new browser id would replace the one the open form's
    // CSRF token is bound to, and the user's sign-in would fail.
    for (path, pairs) in [
        ("/connect/endsession", vec![]),
        ("/connect/endsession", vec![("client_id", WEB.id)]),
        ("/connect/authorize", authorization),
        ("/account/login", login_fields),
        ("/account/consent", vec![("decision", "allow")]),
    ] {
        let url = browser.issuer_url(path);
        let answer = post_from_another_site(&mut browser, &url, &pairs).await;
        let page = log_in(&mut browser, &page, &ALICE).await;
        assert!(
            is_consent_page(&page),
            "the login form no longer works after another site posted to {path} \
             (which answered {answer:#?}): {page:#?}"
        );
        assert!(answer.set_cookies.is_empty(), "{path}: {answer:#?}");
        browser.remove_cookie("sigil_session");
    }
}
