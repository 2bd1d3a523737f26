//! Sign-in behind a load balancer: two `sigil serve` pods share one issuer, one store cluster
//! and one `file` key source (signing key and session secret, from `sigil keys generate`).
//! The browser sends each request to the other pod than the one before (authorize on A, login
//! page on B, login post on A, ...), and the client alternates too: sign-in, single sign-on,
//! remembered consent, refresh rotation and reuse detection, and logout must not notice.

use sigil_e2e::signin::{
    ALICE, Authorize, BOB, FIRST_PARTY, PORTAL, WEB, WEB_SCOPES, assert_invalid_grant, callback,
    field, id_token_claims, is_active, is_login_page, open, redeem, redeem_ok, refresh,
    respond_without_pages, sign_in, sign_in_and_redeem, userinfo,
};
use sigil_e2e::{POD_ISSUER, pod_config_of, serving_address, sigil_keys};
use sigil_testkit::SigilDev;
use sigil_testkit::browser::{Browser, Page, Visit};
use sigil_testkit::client::form;
use sigil_testkit::cluster::StoreCluster;
use std::time::Duration;

/// Past `web`'s 2 s refresh grace period.
const PAST_GRACE: Duration = Duration::from_millis(3500);

/// A three-node store cluster and two pods on one key directory. The pods' configuration is
/// at `cluster.dir("keys-config.yaml")`.
async fn deploy() -> (StoreCluster, SigilDev, SigilDev) {
    deploy_with(|text| text).await
}

/// [`deploy`], with the pods' configuration changed by `change`.
async fn deploy_with(change: impl Fn(String) -> String) -> (StoreCluster, SigilDev, SigilDev) {
    let cluster = StoreCluster::start(3).await.unwrap();
    let keys = cluster.dir("keys");
    let config_text = change(pod_config_of("signin.yaml", &keys));
    let config_path = cluster.dir("keys-config.yaml");
    std::fs::write(&config_path, &config_text).unwrap();
    let generated = sigil_keys(&["generate"], &config_path, &[]);
    assert!(generated.contains("session secret"), "{generated}");
    let mut pods = Vec::new();
    for name in ["pod-a", "pod-b"] {
        pods.push(
            SigilDev::start_pod(&cluster.dir(name), &config_text, &cluster.endpoints())
                .await
                .unwrap(),
        );
    }
    let b = pods.pop().unwrap();
    let a = pods.pop().unwrap();
    (cluster, a, b)
}

async fn verified(pod: &SigilDev, client: &str, id_token: &str) -> serde_json::Value {
    id_token_claims(
        &pod.url("/.well-known/jwks.json"),
        POD_ISSUER,
        client,
        id_token,
    )
    .await
}

#[tokio::test]
async fn every_step_of_sign_in_may_land_on_another_pod() {
    let (_cluster, a, b) = deploy().await;
    let mut browser = Browser::across(POD_ISSUER, &[&a.base_url, &b.base_url]).unwrap();
    let (token_a, token_b) = (a.url("/connect/token"), b.url("/connect/token"));

    // Code + PKCE: authorize on A, login page on B, login post on A, continue on B, consent
    // page on A, consent post on B; the code redeemed on A.
    let request = Authorize::new(WEB, WEB_SCOPES);
    let signed = sign_in(&mut browser, &request, &ALICE).await;
    assert!(signed.saw_login && signed.saw_consent);
    assert_eq!(signed.callback.get("state"), Some(request.state()));
    // The pages and posts of that sign-in really were spread over both pods.
    let pod_of = |visit: &Visit| {
        if visit.sent_to.starts_with(&a.base_url) {
            "A"
        } else {
            "B"
        }
    };
    let trail: Vec<String> = browser
        .visits()
        .iter()
        .map(|v| format!("{} {} on {}: {}", v.method, v.path(), pod_of(v), v.status))
        .collect();
    for pair in browser.visits().windows(2) {
        assert_ne!(pod_of(&pair[0]), pod_of(&pair[1]), "{trail:#?}");
    }
    for step in [
        "GET /connect/authorize ",
        "GET /account/login ",
        "POST /account/login ",
        "GET /account/consent ",
        "POST /account/consent ",
    ] {
        assert!(
            trail.iter().any(|t| t.starts_with(step)),
            "no {step}: {trail:#?}"
        );
    }
    assert_eq!(signed.callback.get("iss"), Some(POD_ISSUER));
    let tokens = redeem_ok(&token_a, &request, signed.callback.require("code").unwrap()).await;
    let web_claims = verified(&b, WEB.id, field(&tokens, "id_token")).await;
    assert_eq!(web_claims["sub"], ALICE.subject);
    assert_eq!(web_claims["nonce"], request.nonce());
    let info = userinfo(&b.url("/connect/userinfo"), field(&tokens, "access_token")).await;
    assert_eq!(info.status, 200, "{info:?}");
    assert_eq!(info.body["sub"], ALICE.subject);

    // Refresh rotation hopping pods: B, then A, then both at once within the grace period.
    let first_refresh = field(&tokens, "refresh_token").to_owned();
    let answer = refresh(&token_b, WEB, &first_refresh, None).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let second_refresh = field(&answer.body, "refresh_token").to_owned();
    let answer = refresh(&token_a, WEB, &second_refresh, None).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let third_refresh = field(&answer.body, "refresh_token").to_owned();
    let (on_a, on_b) = tokio::join!(
        refresh(&token_a, WEB, &third_refresh, None),
        refresh(&token_b, WEB, &third_refresh, None)
    );
    assert_eq!(on_a.status, 200, "{:?}", on_a.body);
    assert_eq!(on_b.status, 200, "{:?}", on_b.body);
    let latest_refresh = field(&on_a.body, "refresh_token").to_owned();
    assert_eq!(
        field(&on_b.body, "refresh_token"),
        latest_refresh,
        "both pods hand out the one successor"
    );

    // A code is single-use across pods.
    let first_party = Authorize::new(FIRST_PARTY, "openid");
    let signed = sign_in(&mut browser, &first_party, &ALICE).await;
    assert!(!signed.saw_login && !signed.saw_consent);
    let code = signed.callback.require("code").unwrap();
    redeem_ok(&token_b, &first_party, code).await;
    assert_invalid_grant(
        &redeem(&token_a, &first_party, code).await,
        "a code redeemed on the other pod",
    );

    // Single sign-on into the portal: no login page, its own consent.
    let portal_request = Authorize::new(PORTAL, "openid profile");
    let portal = sign_in(&mut browser, &portal_request, &ALICE).await;
    assert!(!portal.saw_login && portal.saw_consent);
    let portal_tokens = redeem_ok(
        &token_b,
        &portal_request,
        portal.callback.require("code").unwrap(),
    )
    .await;
    let portal_claims = verified(&a, PORTAL.id, field(&portal_tokens, "id_token")).await;
    assert_eq!(portal_claims["sid"], web_claims["sid"]);

    // Consent remembered on one pod holds on the other, with and without prompt=none.
    let again = Authorize::new(WEB, WEB_SCOPES);
    let signed = sign_in(&mut browser, &again, &ALICE).await;
    assert!(!signed.saw_login && !signed.saw_consent);
    redeem_ok(&token_a, &again, signed.callback.require("code").unwrap()).await;
    for _ in 0..2 {
        let silent = Authorize::new(PORTAL, "openid profile").set("prompt", "none");
        let response = respond_without_pages(&mut browser, &silent).await;
        assert!(response.get("code").is_some(), "{response:?}");
    }

    // Reuse of a rotated-out refresh token after the grace period is caught whichever pod
    // sees it, and the newest token of the family dies with it.
    tokio::time::sleep(PAST_GRACE).await;
    assert_invalid_grant(
        &refresh(&token_a, WEB, &second_refresh, None).await,
        "reuse after grace",
    );
    assert_invalid_grant(
        &refresh(&token_b, WEB, &latest_refresh, None).await,
        "the newest token of the reused family",
    );

    // Logout on one pod ends the session on both.
    let old_session = browser.cookie("sigil_session").unwrap().to_owned();
    let logout = browser.issuer_url(&format!(
        "/connect/endsession?{}",
        form(&[
            ("id_token_hint", field(&portal_tokens, "id_token")),
            ("post_logout_redirect_uri", PORTAL.post_logout_redirect_uri),
            ("state", "done"),
        ])
    ));
    let page = browser.get(&logout).await.unwrap();
    assert_eq!(page.status, 302, "{page:#?}");
    assert_eq!(
        page.redirect_target().unwrap().as_deref(),
        Some(format!("{}?state=done", PORTAL.post_logout_redirect_uri).as_str())
    );
    let mut replay = Browser::across(POD_ISSUER, &[&a.base_url, &b.base_url]).unwrap();
    replay.set_cookie("sigil_session", &old_session);
    for visitor in [&mut browser, &mut replay] {
        for _ in 0..2 {
            let silent = Authorize::new(WEB, WEB_SCOPES).set("prompt", "none");
            let page = visitor.open(&silent.url(visitor)).await.unwrap();
            let response = callback(visitor, &page);
            assert_eq!(
                response.get("error"),
                Some("login_required"),
                "{response:?}"
            );
        }
    }
}

/// `sigil grants ARGS --config CONFIG --store STORE`; panics unless it succeeds.
fn sigil_grants(args: &[&str], cluster: &StoreCluster) {
    let output = std::process::Command::new(sigil_testkit::sigil_binary().unwrap())
        .arg("grants")
        .args(args)
        .arg("--config")
        .arg(cluster.dir("keys-config.yaml"))
        .args(["--store", &cluster.endpoints()])
        .env_remove("SIGIL_STORE")
        .env_remove("SIGIL_CONFIG")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "sigil grants {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn revoking_a_user_ends_their_sign_in_tokens_and_consent_on_every_pod() {
    let (cluster, a, b) = deploy().await;
    let pods = [a.base_url.as_str(), b.base_url.as_str()];
    let (token_a, token_b) = (a.url("/connect/token"), b.url("/connect/token"));

    let mut alice = Browser::across(POD_ISSUER, &pods).unwrap();
    let web = Authorize::new(WEB, WEB_SCOPES);
    let signed = sign_in(&mut alice, &web, &ALICE).await;
    let web_tokens = redeem_ok(&token_a, &web, signed.callback.require("code").unwrap()).await;
    let portal = Authorize::new(PORTAL, "openid offline_access orders.read");
    let signed = sign_in(&mut alice, &portal, &ALICE).await;
    let portal_tokens =
        redeem_ok(&token_b, &portal, signed.callback.require("code").unwrap()).await;
    let reference = field(&portal_tokens, "access_token");
    assert!(is_active(&a.url("/connect/introspect"), PORTAL, reference).await);

    let mut bob = Browser::across(POD_ISSUER, &pods).unwrap();
    let bobs = Authorize::new(WEB, WEB_SCOPES);
    let signed = sign_in(&mut bob, &bobs, &BOB).await;
    let bob_tokens = redeem_ok(&token_b, &bobs, signed.callback.require("code").unwrap()).await;

    sigil_grants(&["revoke", "--subject", ALICE.subject], &cluster);

    // Alice's refresh tokens and reference access tokens are gone, on both pods.
    assert_invalid_grant(
        &refresh(&token_b, WEB, field(&web_tokens, "refresh_token"), None).await,
        "web refresh token after revocation",
    );
    assert_invalid_grant(
        &refresh(
            &token_a,
            PORTAL,
            field(&portal_tokens, "refresh_token"),
            None,
        )
        .await,
        "portal refresh token after revocation",
    );
    for pod in [&a, &b] {
        assert!(!is_active(&pod.url("/connect/introspect"), PORTAL, reference).await);
    }
    // Her browser's session cookie no longer signs her in anywhere...
    for _ in 0..2 {
        let silent = Authorize::new(WEB, WEB_SCOPES).set("prompt", "none");
        let page = alice.open(&silent.url(&alice)).await.unwrap();
        assert_eq!(callback(&alice, &page).get("error"), Some("login_required"));
    }
    // ...and once she signs in again, her consent is asked for again.
    let again = sign_in(&mut alice, &Authorize::new(WEB, WEB_SCOPES), &ALICE).await;
    assert!(again.saw_login && again.saw_consent);

    // Bob is untouched.
    let answer = refresh(&token_a, WEB, field(&bob_tokens, "refresh_token"), None).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let silent = Authorize::new(WEB, WEB_SCOPES).set("prompt", "none");
    let page = bob.open(&silent.url(&bob)).await.unwrap();
    assert!(callback(&bob, &page).get("code").is_some());
}

/// Small numbers, so that the test waits seconds: per account, 3 failures then 4 s waits;
/// per address, 6 failures then 4 s waits, remembered for a minute.
const THROTTLE: &str = "sessions: { cookie_secure: false, login_throttle: { \
    per_account: { free_failures: 3, first_delay: 4s, max_delay: 4s, window: 4s }, \
    per_address: { free_failures: 6, first_delay: 4s, max_delay: 4s, window: 60s } } }";

/// Posts `username` and `password` with the login form of `page` (to the next pod in turn).
async fn try_password(browser: &mut Browser, page: &Page, username: &str, password: &str) -> Page {
    let login = page.form("/account/login").unwrap();
    let pairs = login.fill(&[("username", username), ("password", password)]);
    browser
        .post_form(&page.resolve(&login.action).unwrap(), &pairs)
        .await
        .unwrap()
}

/// Asserts a wrong password's answer: the form again, 200.
fn assert_refused(page: &Page, case: &str) {
    assert_eq!(page.status, 200, "{case}: {page:#?}");
    assert!(page.body.contains("Invalid username or password"), "{case}");
}

/// Asserts a page that asks the browser to come back later: `status` with `Retry-After`, an
/// HTML page saying `message` that offers the form posting to `form` again, and no session
/// cookie set or cleared. Returns the wait.
fn assert_come_back(page: &Page, status: u16, message: &str, form: &str, case: &str) -> Duration {
    assert_eq!(page.status, status, "{case}: {page:#?}");
    let retry_after: u64 = page
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{case}: no Retry-After in {page:#?}"));
    assert!(
        page.content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/html")),
        "{case}: {page:#?}"
    );
    assert!(page.body.contains(message), "{case}: {}", page.body);
    assert!(page.form(form).is_ok(), "{case}: the form is still there");
    assert!(
        page.set_cookie("sigil_session").is_none(),
        "{case}: {page:#?}"
    );
    Duration::from_secs(retry_after)
}

/// Asserts a throttled attempt's answer: 429 with `Retry-After` (at most `most` seconds) and
/// the login page with a message for people; returns the wait.
fn assert_throttled(page: &Page, most: u64, case: &str) -> Duration {
    let message = "Too many failed sign-in attempts";
    let wait = assert_come_back(page, 429, message, "/account/login", case);
    assert!(
        (1..=most).contains(&wait.as_secs()),
        "{case}: Retry-After {wait:?}"
    );
    wait
}

#[tokio::test]
async fn password_guesses_spread_over_pods_are_throttled_by_the_shared_counts() {
    let (_cluster, a, b) = deploy_with(|text| {
        let sessions = "sessions: { cookie_secure: false }";
        assert!(text.contains(sessions));
        text.replace(sessions, THROTTLE)
    })
    .await;
    let mut browser = Browser::across(POD_ISSUER, &[&a.base_url, &b.base_url]).unwrap();
    let page = open(&mut browser, &Authorize::new(WEB, "openid")).await;
    assert!(is_login_page(&page), "{page:#?}");
    let pod_of = |page: &Page| {
        if page.sent_to.starts_with(&a.base_url) {
            "A"
        } else {
            "B"
        }
    };

    // Alice's account: three wrong passwords, alternating pods; then every pod refuses at
    // once, the right password too, without a session.
    for n in 0..3 {
        let answer = try_password(&mut browser, &page, ALICE.username, "guess").await;
        assert_refused(&answer, &format!("failure {n}"));
    }
    let mut pods = Vec::new();
    let mut wait = Duration::ZERO;
    for password in ["guess", ALICE.password, ALICE.password] {
        let answer = try_password(&mut browser, &page, ALICE.username, password).await;
        wait = wait.max(assert_throttled(
            &answer,
            4,
            &format!("{password} on {}", pod_of(&answer)),
        ));
        assert!(answer.set_cookie("sigil_session").is_none());
        pods.push(pod_of(&answer));
    }
    assert!(pods.contains(&"A") && pods.contains(&"B"), "{pods:?}");

    // After the wait, the right password works (on whichever pod).
    tokio::time::sleep(wait + Duration::from_millis(200)).await;
    let answer = try_password(&mut browser, &page, ALICE.username, ALICE.password).await;
    assert_eq!(answer.status, 302, "{answer:#?}");
    assert!(answer.set_cookie("sigil_session").is_some());

    // One address guessing across many accounts: its count is shared by the pods too.
    let mut guesser = Browser::across(POD_ISSUER, &[&a.base_url, &b.base_url]).unwrap();
    let page = open(&mut guesser, &Authorize::new(WEB, "openid")).await;
    // Three failures from phase one are still counted for this address (window 60 s).
    for n in 0..3 {
        let answer = try_password(&mut guesser, &page, &format!("user-{n}"), "guess").await;
        assert_refused(&answer, &format!("user-{n}"));
    }
    let mut pods = Vec::new();
    for n in 3..5 {
        let answer = try_password(&mut guesser, &page, &format!("user-{n}"), "guess").await;
        assert_throttled(&answer, 4, &format!("user-{n} on {}", pod_of(&answer)));
        pods.push(pod_of(&answer));
    }
    assert!(pods.contains(&"A") && pods.contains(&"B"), "{pods:?}");

    for pod in [&a, &b] {
        pod.wait_for_event("login_throttled").await.unwrap();
        let metrics = reqwest::get(pod.url("/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics
                .lines()
                .any(|line| line.starts_with("sigil_sign_ins_throttled_total{reason=\"")),
            "{metrics}"
        );
        assert!(!metrics.contains("alice"), "no user names in metrics");
    }
}

/// Asserts the answer to a sign-out the store could not record: 503 with `Retry-After`, a page
/// asking to try again with the confirmation form to do so, and the session cookie untouched.
fn assert_sign_out_deferred(page: &Page, case: &str) {
    assert_come_back(
        page,
        503,
        "Try again in a moment",
        "/connect/endsession",
        case,
    );
}

#[tokio::test]
async fn a_sign_out_while_the_store_is_down_asks_to_try_again_with_503_and_retry_after() {
    let (mut cluster, a, b) = deploy().await;
    let mut browser = Browser::across(POD_ISSUER, &[&a.base_url, &b.base_url]).unwrap();
    let request = Authorize::new(WEB, "openid");
    let signed = sign_in(&mut browser, &request, &ALICE).await;
    let tokens = redeem_ok(
        &a.url("/connect/token"),
        &request,
        signed.callback.require("code").unwrap(),
    )
    .await;
    for node in &mut cluster.nodes {
        node.kill().unwrap();
    }

    // The confirmation page needs no store; confirming does.
    let page = browser
        .get(&browser.issuer_url(&format!("/connect/endsession?client_id={}", WEB.id)))
        .await
        .unwrap();
    assert_eq!(page.status, 200, "{page:#?}");
    let confirm = page.form("/connect/endsession").unwrap();
    let answer = browser
        .post_form(
            &page.resolve(&confirm.action).unwrap(),
            &confirm.fill(&[("confirm", "yes")]),
        )
        .await
        .unwrap();
    assert_sign_out_deferred(&answer, "confirmed");

    // The application's own logout (its ID token as the hint) is deferred the same way.
    let hinted = browser.issuer_url(&format!(
        "/connect/endsession?{}",
        form(&[
            ("id_token_hint", field(&tokens, "id_token")),
            ("post_logout_redirect_uri", WEB.post_logout_redirect_uri),
        ])
    ));
    let answer = browser.get(&hinted).await.unwrap();
    assert_sign_out_deferred(&answer, "hinted");
}

#[tokio::test]
async fn a_sign_in_while_the_store_is_down_gets_the_form_back_with_503_and_retry_after() {
    let (mut cluster, a, b) = deploy().await;
    let mut browser = Browser::across(POD_ISSUER, &[&a.base_url, &b.base_url]).unwrap();
    let page = open(&mut browser, &Authorize::new(WEB, "openid")).await;
    assert!(is_login_page(&page), "{page:#?}");
    for node in &mut cluster.nodes {
        node.kill().unwrap();
    }
    // Nothing is wrong with the attempt: the user is asked to try again, not shown a 500.
    let answer = try_password(&mut browser, &page, ALICE.username, ALICE.password).await;
    let message = "Try again in a moment";
    assert_come_back(&answer, 503, message, "/account/login", "store down");
}

#[tokio::test]
async fn with_the_store_down_userinfo_and_refresh_say_when_to_retry() {
    let (mut cluster, a, b) = deploy().await;
    let mut browser = Browser::across(POD_ISSUER, &[&a.base_url, &b.base_url]).unwrap();
    let tokens = sign_in_and_redeem(
        &mut browser,
        &Authorize::new(WEB, WEB_SCOPES),
        &ALICE,
        &a.url("/connect/token"),
    )
    .await;
    for node in &mut cluster.nodes {
        node.kill().unwrap();
    }
    // userinfo checks the token against the store (revocation); refresh rotates in it.
    let client = reqwest::Client::new();
    let info = client
        .get(b.url("/connect/userinfo"))
        .bearer_auth(field(&tokens, "access_token"))
        .send()
        .await
        .unwrap();
    let refreshed = client
        .post(a.url("/connect/token"))
        .basic_auth(WEB.id, Some(sigil_e2e::CLIENT_SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", field(&tokens, "refresh_token")),
        ])
        .send()
        .await
        .unwrap();
    for (case, answer) in [("userinfo", info), ("refresh", refreshed)] {
        assert_eq!(answer.status(), 503, "{case}");
        assert_eq!(answer.headers()["retry-after"], "1", "{case}");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["error"], "temporarily_unavailable", "{case}: {body}");
    }
}

#[tokio::test]
async fn a_pod_without_keys_yet_asks_browsers_to_come_back() {
    // A pod whose key source is still empty: it cannot seal a request in flight to the login
    // page, and says so as a 503, not as a 500.
    let cluster = StoreCluster::start(1).await.unwrap();
    let keys = cluster.dir("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let config = pod_config_of("signin.yaml", &keys);
    let pod_dir = cluster.dir("pod");
    let _starting = {
        let (dir, endpoints) = (pod_dir.clone(), cluster.endpoints());
        tokio::spawn(async move { SigilDev::start_pod(&dir, &config, &endpoints).await })
    };
    let listen = serving_address(&pod_dir.with_extension("log")).await;
    let mut browser = Browser::across(POD_ISSUER, &[&format!("http://{listen}")]).unwrap();
    let page = open(&mut browser, &Authorize::new(WEB, "openid")).await;
    assert_eq!(page.status, 503, "{page:#?}");
    assert!(page.header("retry-after").is_some(), "{page:#?}");
}
