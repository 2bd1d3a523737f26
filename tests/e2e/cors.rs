//! Cross-origin requests (CORS) as a browser sends them, header by header: discovery and
//! JWKS are readable from every origin; token, userinfo, revocation and end-session only from
//! an origin some client registered in `allowed_cors_origins`; the sign-in pages and
//! introspection never. A browser origin acts at the token and revocation endpoints only for
//! the clients that registered it, and a refused request changes nothing (a code stays
//! redeemable). `browser_spa` runs the same rules in a real browser.

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use sigil_e2e::config;
use sigil_e2e::signin::{ALICE, Authorize, TestClient, redeem_ok, refresh, sign_in};
use sigil_testkit::SigilDev;
use sigil_testkit::browser::Browser;
use sigil_testkit::client::{basic, form};

/// The origin `spa` registered.
const SPA_ORIGIN: &str = "http://127.0.0.1:5173";
/// The origin `other-spa` registered.
const OTHER_ORIGIN: &str = "https://other.test";
/// An origin no client registered.
const STRANGER: &str = "https://evil.test";

const SPA: TestClient = TestClient {
    id: "spa",
    redirect_uri: "http://127.0.0.1:5173/",
    post_logout_redirect_uri: "http://127.0.0.1:5173/?signed-out",
    public: true,
};

async fn start() -> SigilDev {
    SigilDev::start(Some(&config("cors.yaml", &[("SPA_ORIGIN", SPA_ORIGIN)])))
        .await
        .unwrap()
}

/// One response: status, headers, body text.
struct Seen {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn allow_origin(&self) -> Option<&str> {
        self.header("access-control-allow-origin")
    }

    /// The comma-separated words of every `name` header, lower-cased.
    fn list(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|word| word.trim().to_ascii_lowercase())
            .filter(|word| !word.is_empty())
            .collect()
    }

    fn varies_on_origin(&self) -> bool {
        self.list("vary").iter().any(|word| word == "origin")
    }

    /// Asserts an error answer: `status`, and `error` in the body.
    fn assert_error(&self, status: StatusCode, error: &str, case: &str) {
        assert_eq!(self.status, status, "{case}: {}", self.body);
        assert!(self.body.contains(error), "{case}: {}", self.body);
    }

    /// No credentials mode, ever: neither with `*` nor with an exact origin.
    fn assert_no_credentials(&self, case: &str) {
        assert_eq!(
            self.header("access-control-allow-credentials"),
            None,
            "{case}: credentials are never allowed"
        );
    }
}

/// Sends a request with `headers`; `body` as a form.
async fn send(method: Method, url: &str, headers: &[(&str, &str)], body: Option<String>) -> Seen {
    let mut request = reqwest::Client::new().request(method, url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
    }
    let response = request.send().await.unwrap();
    Seen {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

/// A `GET` with `headers`.
async fn get(url: &str, headers: &[(&str, &str)]) -> Seen {
    send(Method::GET, url, headers, None).await
}

/// A form `POST` of `body` with `headers`.
async fn post(url: &str, headers: &[(&str, &str)], body: String) -> Seen {
    send(Method::POST, url, headers, Some(body)).await
}

/// The preflight a browser sends before `method` with `request_headers` from `origin`.
async fn preflight(url: &str, origin: &str, method: &str, request_headers: &str) -> Seen {
    let mut headers = vec![
        ("origin", origin),
        ("access-control-request-method", method),
    ];
    if !request_headers.is_empty() {
        headers.push(("access-control-request-headers", request_headers));
    }
    send(Method::OPTIONS, url, &headers, None).await
}

/// Asserts a preflight that lets `origin` send `method` with `Authorization` and
/// `Content-Type`.
fn assert_preflight_allows(seen: &Seen, origin: &str, method: &str, case: &str) {
    assert!(seen.status.is_success(), "{case}: {}", seen.status);
    assert_eq!(seen.allow_origin(), Some(origin), "{case}");
    assert!(
        seen.list("access-control-allow-methods")
            .contains(&method.to_ascii_lowercase()),
        "{case}: methods {:?}",
        seen.headers
    );
    let allowed_headers = seen.list("access-control-allow-headers");
    for header in ["authorization", "content-type"] {
        assert!(
            allowed_headers.iter().any(|h| h == header),
            "{case}: {header} in {allowed_headers:?}"
        );
    }
    assert!(
        seen.header("access-control-max-age")
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|age| age > 0),
        "{case}: a preflight answer browsers may cache"
    );
    assert!(seen.varies_on_origin(), "{case}: Vary: Origin");
    seen.assert_no_credentials(case);
}

/// Asserts a preflight that a browser treats as a refusal: no CORS headers, and no server
/// error or 405 for a route that exists.
fn assert_preflight_refused(seen: &Seen, case: &str) {
    assert_eq!(seen.allow_origin(), None, "{case}: {:?}", seen.headers);
    assert_eq!(seen.header("access-control-allow-methods"), None, "{case}");
    assert!(
        !seen.status.is_server_error() && seen.status != StatusCode::METHOD_NOT_ALLOWED,
        "{case}: {}",
        seen.status
    );
    seen.assert_no_credentials(case);
}

/// A signed-in user's fresh code for `spa`, with the request that holds its PKCE verifier.
async fn fresh_code(sigil: &SigilDev) -> (Authorize, String) {
    let mut browser = Browser::new(&sigil.base_url).unwrap();
    let request = Authorize::new(SPA, "openid profile offline_access orders.read");
    let signed_in = sign_in(&mut browser, &request, &ALICE).await;
    let code = signed_in.callback.require("code").unwrap().to_owned();
    (request, code)
}

/// The form a browser app posts to redeem `code` from `request`.
fn redemption(request: &Authorize, code: &str) -> String {
    form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", request.redirect_uri()),
        ("code_verifier", &request.pkce.verifier),
        ("client_id", SPA.id),
    ])
}

#[tokio::test]
async fn discovery_and_jwks_are_public_documents_every_origin_may_read() {
    let sigil = start().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/.well-known/jwks.json",
    ] {
        let url = sigil.url(path);
        for origin in [Some(SPA_ORIGIN), Some(STRANGER), Some("null"), None] {
            let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
            let seen = get(&url, &headers).await;
            let case = format!("GET {path} from {origin:?}");
            assert_eq!(seen.status, StatusCode::OK, "{case}");
            assert_eq!(seen.allow_origin(), Some("*"), "{case}");
            seen.assert_no_credentials(&case);
        }
        let seen = preflight(&url, STRANGER, "GET", "x-requested-with").await;
        let case = format!("preflight {path}");
        assert!(seen.status.is_success(), "{case}: {}", seen.status);
        assert_eq!(seen.allow_origin(), Some("*"), "{case}");
        assert!(
            seen.list("access-control-allow-methods")
                .contains(&"get".to_owned()),
            "{case}"
        );
        seen.assert_no_credentials(&case);
    }
}

#[tokio::test]
async fn preflights_are_answered_for_registered_origins_only() {
    let sigil = start().await;
    for (path, method) in [
        ("/connect/token", "POST"),
        ("/connect/revocation", "POST"),
        ("/connect/userinfo", "GET"),
        ("/connect/userinfo", "POST"),
        ("/connect/endsession", "GET"),
        ("/connect/endsession", "POST"),
    ] {
        let url = sigil.url(path);
        for origin in [SPA_ORIGIN, OTHER_ORIGIN] {
            let seen = preflight(&url, origin, method, "authorization, content-type").await;
            assert_preflight_allows(&seen, origin, method, &format!("{method} {path} {origin}"));
        }
        for origin in [
            STRANGER,
            "null",
            "http://127.0.0.1:5174",
            "http://localhost:5173",
        ] {
            let seen = preflight(&url, origin, method, "authorization").await;
            let case = format!("{method} {path} from {origin}");
            assert_preflight_refused(&seen, &case);
            assert!(seen.varies_on_origin(), "{case}: Vary: Origin");
        }
    }
}

#[tokio::test]
async fn sign_in_pages_and_introspection_have_no_cors() {
    let sigil = start().await;
    for (path, method) in [
        ("/connect/authorize", "GET"),
        ("/connect/authorize", "POST"),
        ("/account/login", "POST"),
        ("/account/consent", "POST"),
        ("/connect/introspect", "POST"),
    ] {
        let seen = preflight(&sigil.url(path), SPA_ORIGIN, method, "content-type").await;
        let case = format!("preflight {method} {path}");
        assert_eq!(seen.allow_origin(), None, "{case}: {:?}", seen.headers);
        assert!(!seen.status.is_server_error(), "{case}: {}", seen.status);
    }
    let seen = get(
        &sigil.url("/connect/authorize?client_id=spa"),
        &[("origin", SPA_ORIGIN)],
    )
    .await;
    assert_eq!(seen.allow_origin(), None, "authorize is a navigation");
    let seen = post(
        &sigil.url("/connect/introspect"),
        &[
            ("origin", SPA_ORIGIN),
            ("authorization", &basic("web", sigil_e2e::CLIENT_SECRET)),
        ],
        form(&[("token", "nothing")]),
    )
    .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert_eq!(seen.allow_origin(), None, "introspection is for APIs");
}

#[tokio::test]
async fn token_errors_are_readable_by_the_registered_origin_and_vary_on_origin() {
    let sigil = start().await;
    let url = sigil.url("/connect/token");
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", "no-such-code"),
        ("redirect_uri", SPA.redirect_uri),
        ("code_verifier", "x".repeat(43).as_str()),
        ("client_id", "spa"),
    ]);
    let seen = post(&url, &[("origin", SPA_ORIGIN)], body.clone()).await;
    seen.assert_error(StatusCode::BAD_REQUEST, "invalid_grant", "no such code");
    assert_eq!(seen.allow_origin(), Some(SPA_ORIGIN));
    assert!(seen.varies_on_origin());
    seen.assert_no_credentials("token error");
    let exposed = seen.list("access-control-expose-headers");
    for header in ["www-authenticate", "retry-after"] {
        assert!(
            exposed.iter().any(|h| h == header),
            "{header} in {exposed:?}"
        );
    }

    // A client that fails to authenticate: the 401 and its challenge are readable too.
    let seen = post(
        &url,
        &[
            ("origin", SPA_ORIGIN),
            ("authorization", &basic("web", "wrong")),
        ],
        form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED, "{}", seen.body);
    assert_eq!(seen.allow_origin(), Some(SPA_ORIGIN));
    assert!(seen.header("www-authenticate").is_some());

    // Not registered, or no Origin at all: no CORS headers, but the answer still varies.
    for headers in [vec![("origin", STRANGER)], vec![]] {
        let seen = post(&url, &headers, body.clone()).await;
        assert_eq!(seen.allow_origin(), None, "{headers:?}");
        assert!(seen.varies_on_origin(), "{headers:?}: Vary: Origin");
        seen.assert_no_credentials("token error");
    }
}

#[tokio::test]
async fn a_code_redeemed_from_a_foreign_origin_is_refused_and_stays_redeemable() {
    let sigil = start().await;
    let url = sigil.url("/connect/token");
    let (request, code) = fresh_code(&sigil).await;

    // A browser on an origin `spa` never registered (no preflight: a form POST is a simple
    // request) would not be allowed to read the answer: the code must not be spent on it.
    for origin in [STRANGER, "null", OTHER_ORIGIN] {
        let seen = post(&url, &[("origin", origin)], redemption(&request, &code)).await;
        seen.assert_error(StatusCode::BAD_REQUEST, "unauthorized_client", origin);
        assert!(!seen.body.contains("access_token"), "{origin}");
    }
    // `other-spa`'s origin may read the refusal (it is registered, just not for `spa`).
    let seen = post(
        &url,
        &[("origin", OTHER_ORIGIN)],
        redemption(&request, &code),
    )
    .await;
    assert_eq!(seen.allow_origin(), Some(OTHER_ORIGIN));

    // The app's own origin redeems the same code.
    let seen = post(&url, &[("origin", SPA_ORIGIN)], redemption(&request, &code)).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert!(seen.body.contains("access_token"), "{}", seen.body);
    assert_eq!(seen.allow_origin(), Some(SPA_ORIGIN));
    assert!(seen.varies_on_origin());
    seen.assert_no_credentials("token response");
}

#[tokio::test]
async fn requests_without_origin_and_from_the_issuer_itself_are_not_cross_origin() {
    let sigil = start().await;
    let url = sigil.url("/connect/token");
    // Server-side clients send no Origin: unchanged.
    let (request, code) = fresh_code(&sigil).await;
    redeem_ok(&url, &request, &code).await;
    // A page of the issuer's own origin is not cross-origin: no registration needed.
    let (request, code) = fresh_code(&sigil).await;
    let seen = post(
        &url,
        &[("origin", &sigil.base_url)],
        redemption(&request, &code),
    )
    .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert_eq!(seen.allow_origin(), None, "same-origin needs no CORS");
    // A confidential client that registered no origin: from a browser origin it is refused,
    // without one it works.
    let credentials = basic("web", sigil_e2e::CLIENT_SECRET);
    let client_credentials = form(&[("grant_type", "client_credentials")]);
    let seen = post(
        &url,
        &[("origin", SPA_ORIGIN), ("authorization", &credentials)],
        client_credentials.clone(),
    )
    .await;
    seen.assert_error(
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        "a client that registered no origin",
    );
    let seen = post(&url, &[("authorization", &credentials)], client_credentials).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
}

#[tokio::test]
async fn userinfo_revocation_and_end_session_answer_the_registered_origin() {
    let sigil = start().await;
    let (request, code) = fresh_code(&sigil).await;
    let tokens = redeem_ok(&sigil.url("/connect/token"), &request, &code).await;
    let access_token = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    let bearer = format!("Bearer {access_token}");

    let userinfo = sigil.url("/connect/userinfo");
    let seen = get(
        &userinfo,
        &[("origin", SPA_ORIGIN), ("authorization", &bearer)],
    )
    .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert!(seen.body.contains("alice-id"), "{}", seen.body);
    assert_eq!(seen.allow_origin(), Some(SPA_ORIGIN));
    assert!(seen.varies_on_origin());
    seen.assert_no_credentials("userinfo");
    // A 401 names its reason in WWW-Authenticate (RFC 6750 §3), which the app may read.
    let seen = get(
        &userinfo,
        &[("origin", SPA_ORIGIN), ("authorization", "Bearer nonsense")],
    )
    .await;
    assert_eq!(seen.status, StatusCode::UNAUTHORIZED);
    assert_eq!(seen.allow_origin(), Some(SPA_ORIGIN));
    assert!(
        seen.list("access-control-expose-headers")
            .contains(&"www-authenticate".to_owned())
    );
    let seen = get(
        &userinfo,
        &[("origin", STRANGER), ("authorization", &bearer)],
    )
    .await;
    assert_eq!(seen.allow_origin(), None);
    assert!(seen.varies_on_origin());

    // End-session answers a registered origin's fetch; a fetch carries no cookie, so it
    // ends no session (the app navigates there to sign out).
    let seen = get(&sigil.url("/connect/endsession"), &[("origin", SPA_ORIGIN)]).await;
    assert_eq!(seen.allow_origin(), Some(SPA_ORIGIN));
    assert!(seen.varies_on_origin());
    seen.assert_no_credentials("end-session");

    // Revocation: a foreign origin changes nothing; the app's origin revokes.
    let revocation = sigil.url("/connect/revocation");
    let revoke = form(&[("token", refresh_token), ("client_id", SPA.id)]);
    let seen = post(&revocation, &[("origin", STRANGER)], revoke.clone()).await;
    assert_eq!(seen.status, StatusCode::BAD_REQUEST, "{}", seen.body);
    assert_eq!(seen.allow_origin(), None);
    let refreshed = refresh(&sigil.url("/connect/token"), SPA, refresh_token, None).await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    let successor = refreshed.body["refresh_token"].as_str().unwrap().to_owned();
    let seen = post(
        &revocation,
        &[("origin", SPA_ORIGIN)],
        form(&[("token", &successor), ("client_id", SPA.id)]),
    )
    .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert_eq!(seen.allow_origin(), Some(SPA_ORIGIN));
    let refreshed = refresh(&sigil.url("/connect/token"), SPA, &successor, None).await;
    assert_eq!(refreshed.status, 400, "revoked: {:?}", refreshed.body);
}
