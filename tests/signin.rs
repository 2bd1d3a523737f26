//! What the sign-in tests (the `signin_*` modules of `e2e/`) share: `sigil dev` started on
//! `configs/signin.yaml`, its users and clients, authorization requests, the login and consent
//! pages driven as a user would drive them, and the client's side of the token, introspection
//! and userinfo endpoints.
//! Everything here panics on the unexpected, with what was seen: a panic is a failed test.

use crate::{ALICE_PASSWORD, BOB_PASSWORD, CLIENT_SECRET, config};
use serde_json::Value;
use sigil_testkit::SigilDev;
use sigil_testkit::browser::{Browser, Callback, Page};
use sigil_testkit::client::{Answer, basic, form, get_json, post_form, verify_id_token};
use sigil_testkit::pkce::{Pkce, random_string};
use std::collections::BTreeSet;

/// `sigil dev` with `signin.yaml`, and a browser for it.
pub async fn start() -> (SigilDev, Browser) {
    start_on(config("signin.yaml", &[])).await
}

/// [`start`] with `from` in `signin.yaml` replaced by `to` (`from` must occur).
pub async fn start_with(from: &str, to: &str) -> (SigilDev, Browser) {
    let text = config("signin.yaml", &[]);
    assert!(text.contains(from), "{from:?} is not in signin.yaml");
    start_on(text.replace(from, to)).await
}

async fn start_on(config: String) -> (SigilDev, Browser) {
    let sigil = SigilDev::start(Some(&config)).await.unwrap();
    let browser = Browser::new(&sigil.base_url).unwrap();
    (sigil, browser)
}

/// A user of `signin.yaml`.
#[derive(Debug, Clone, Copy)]
pub struct User {
    /// What they type as the username.
    pub username: &'static str,
    /// Their password.
    pub password: &'static str,
    /// Their `sub`.
    pub subject: &'static str,
}

/// Alice: name, email (verified).
pub const ALICE: User = User {
    username: "alice",
    password: ALICE_PASSWORD,
    subject: "alice-id",
};

/// Bob.
pub const BOB: User = User {
    username: "bob",
    password: BOB_PASSWORD,
    subject: "bob-id",
};

/// A client of `signin.yaml`, as the tests act it out.
#[derive(Debug, Clone, Copy)]
pub struct TestClient {
    /// Its `client_id`.
    pub id: &'static str,
    /// Its one registered redirect URI.
    pub redirect_uri: &'static str,
    /// Its registered post-logout redirect URI (empty if none).
    pub post_logout_redirect_uri: &'static str,
    /// Public (`client_id` in the body) rather than confidential (Basic with [`CLIENT_SECRET`]).
    pub public: bool,
}

/// Confidential; `code` and `code id_token`; JWT access tokens; refresh grace 2 s.
pub const WEB: TestClient = TestClient {
    id: "web",
    redirect_uri: "http://app.test/callback",
    post_logout_redirect_uri: "http://app.test/signed-out",
    public: false,
};

/// Confidential; reference access tokens; a second app for single sign-on.
pub const PORTAL: TestClient = TestClient {
    id: "portal",
    redirect_uri: "http://portal.test/callback",
    post_logout_redirect_uri: "http://portal.test/bye",
    public: false,
};

/// Public single-page app.
pub const SPA: TestClient = TestClient {
    id: "spa",
    redirect_uri: "http://spa.test/callback",
    post_logout_redirect_uri: "",
    public: true,
};

/// Confidential, `require_pkce: false`.
pub const LEGACY: TestClient = TestClient {
    id: "legacy",
    redirect_uri: "http://legacy.test/callback",
    post_logout_redirect_uri: "",
    public: false,
};

/// Public, implicit only (`id_token`, `id_token token`).
pub const IMPLICIT: TestClient = TestClient {
    id: "implicit",
    redirect_uri: "http://implicit.test/callback",
    post_logout_redirect_uri: "",
    public: true,
};

/// Confidential, `require_consent: false`.
pub const FIRST_PARTY: TestClient = TestClient {
    id: "first-party",
    redirect_uri: "http://first.test/callback",
    post_logout_redirect_uri: "",
    public: false,
};

/// Every scope [`WEB`] may ask for.
pub const WEB_SCOPES: &str = "openid profile email offline_access orders.read";

/// An authorization request: `response_type=code` with a fresh `state`, `nonce` and S256
/// PKCE challenge unless changed.
#[derive(Debug, Clone)]
pub struct Authorize {
    /// The client making it.
    pub client: TestClient,
    /// The PKCE pair (its challenge is sent unless removed).
    pub pkce: Pkce,
    params: Vec<(String, String)>,
}

impl Authorize {
    /// `response_type=code` for `client`'s redirect URI and `scope`.
    pub fn new(client: TestClient, scope: &str) -> Self {
        let pkce = Pkce::s256();
        let params = [
            ("response_type", "code"),
            ("client_id", client.id),
            ("redirect_uri", client.redirect_uri),
            ("scope", scope),
            ("state", &random_string(12)),
            ("nonce", &random_string(12)),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", pkce.method),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        Self {
            client,
            pkce,
            params,
        }
    }

    /// Sets parameter `name` (replacing it if present).
    pub fn set(mut self, name: &str, value: &str) -> Self {
        match self.params.iter_mut().find(|(n, _)| n == name) {
            Some(pair) => pair.1 = value.to_owned(),
            None => self.params.push((name.to_owned(), value.to_owned())),
        }
        self
    }

    /// Removes parameter `name`.
    pub fn unset(mut self, name: &str) -> Self {
        self.params.retain(|(n, _)| n != name);
        self
    }

    /// Sends `pkce`'s challenge and method instead.
    pub fn with_pkce(self, pkce: Pkce) -> Self {
        let (challenge, method) = (pkce.challenge.clone(), pkce.method);
        let mut request = self
            .set("code_challenge", &challenge)
            .set("code_challenge_method", method);
        request.pkce = pkce;
        request
    }

    /// Sends no PKCE challenge.
    pub fn without_pkce(self) -> Self {
        self.unset("code_challenge").unset("code_challenge_method")
    }

    /// Parameter `name`, if sent.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `state` sent.
    pub fn state(&self) -> &str {
        self.param("state").unwrap_or_default()
    }

    /// The `nonce` sent.
    pub fn nonce(&self) -> &str {
        self.param("nonce").unwrap_or_default()
    }

    /// The `redirect_uri` sent.
    pub fn redirect_uri(&self) -> &str {
        self.param("redirect_uri").unwrap_or_default()
    }

    /// The authorization endpoint URL carrying this request, under `browser`'s issuer.
    pub fn url(&self, browser: &Browser) -> String {
        browser.issuer_url(&format!("/connect/authorize?{}", form(&self.pairs())))
    }

    fn pairs(&self) -> Vec<(&str, &str)> {
        self.params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

/// True if `page` is the login page (a form posting to `/account/login`).
pub fn is_login_page(page: &Page) -> bool {
    page.status == 200 && page.form("/account/login").is_ok()
}

/// True if `page` is the consent page (a form posting to `/account/consent`).
pub fn is_consent_page(page: &Page) -> bool {
    page.status == 200 && page.form("/account/consent").is_ok()
}

/// Fills the login form of `page` with `user`'s credentials and submits it (following
/// redirects under the issuer).
pub async fn log_in(browser: &mut Browser, page: &Page, user: &User) -> Page {
    let login = page.form("/account/login").unwrap();
    assert!(
        login.value("request").is_some() && login.value("csrf").is_some(),
        "the login form lacks hidden `request` or `csrf`: {login:?}"
    );
    let pairs = login.fill(&[("username", user.username), ("password", user.password)]);
    browser.submit(page, &login, &pairs).await.unwrap()
}

/// Presses `decision` (`allow` or `deny`) on the consent page, ticking "remember" or not.
pub async fn decide(browser: &mut Browser, page: &Page, decision: &str, remember: bool) -> Page {
    let consent = page.form("/account/consent").unwrap();
    let mut pairs = consent.fill(&[("decision", decision)]);
    pairs.retain(|(name, _)| name != "remember");
    if remember {
        pairs.push(("remember".to_owned(), "on".to_owned()));
    }
    browser.submit(page, &consent, &pairs).await.unwrap()
}

/// Opens `request` in `browser`, following redirects under the issuer; the page it ends on.
pub async fn open(browser: &mut Browser, request: &Authorize) -> Page {
    browser.open(&request.url(browser)).await.unwrap()
}

/// Opens `request` and expects the response to reach the client with no page on the way
/// (`prompt=none`, or a session with remembered consent).
pub async fn respond_without_pages(browser: &mut Browser, request: &Authorize) -> Callback {
    let page = open(browser, request).await;
    callback(browser, &page)
}

/// The authorization response `page` carries; panics with the page if it carries none.
pub fn callback(browser: &Browser, page: &Page) -> Callback {
    page.callback(browser)
        .unwrap()
        .unwrap_or_else(|| panic!("no authorization response, but {page:#?}"))
}

/// How a sign-in went: the response, and which pages the user saw on the way.
#[derive(Debug)]
pub struct SignIn {
    /// The authorization response.
    pub callback: Callback,
    /// Whether the login page was shown.
    pub saw_login: bool,
    /// Whether the consent page was shown.
    pub saw_consent: bool,
}

/// Opens `request` in `browser` and plays the user `user`: logs in if asked, allows (and
/// remembers) if asked, until the response reaches the client.
pub async fn sign_in(browser: &mut Browser, request: &Authorize, user: &User) -> SignIn {
    sign_in_with(browser, request, user, true).await
}

/// [`sign_in`], remembering consent or not.
pub async fn sign_in_with(
    browser: &mut Browser,
    request: &Authorize,
    user: &User,
    remember: bool,
) -> SignIn {
    let mut page = browser.open(&request.url(browser)).await.unwrap();
    let saw_login = is_login_page(&page);
    if saw_login {
        page = log_in(browser, &page, user).await;
    }
    let saw_consent = is_consent_page(&page);
    if saw_consent {
        page = decide(browser, &page, "allow", remember).await;
    }
    SignIn {
        callback: callback(browser, &page),
        saw_login,
        saw_consent,
    }
}

/// Signs `user` in for `request` and redeems the code at `token_url`: the token response.
pub async fn sign_in_and_redeem(
    browser: &mut Browser,
    request: &Authorize,
    user: &User,
    token_url: &str,
) -> Value {
    let signed = sign_in(browser, request, user).await;
    redeem_ok(token_url, request, signed.callback.require("code").unwrap()).await
}

/// Alice's `web` refresh token (with `offline_access`), from the token endpoint at `token_url`.
pub async fn web_refresh_token(browser: &mut Browser, token_url: &str) -> String {
    let request = Authorize::new(WEB, WEB_SCOPES);
    let tokens = sign_in_and_redeem(browser, &request, &ALICE, token_url).await;
    field(&tokens, "refresh_token").to_owned()
}

/// Asserts the `400` HTML error page the authorization and end-session endpoints show
/// instead of redirecting anywhere.
pub fn assert_error_page(page: &Page, case: &str) {
    assert_eq!(page.status, 400, "{case}: {page:#?}");
    assert_eq!(page.location, None, "{case}: must not redirect");
    assert!(
        page.content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/html")),
        "{case}: an HTML page, not {:?}",
        page.content_type
    );
}

/// A token request from `client` at `token_url`: Basic with [`CLIENT_SECRET`] for a
/// confidential client, `client_id` in the body for a public one.
pub async fn token_request(token_url: &str, client: TestClient, pairs: &[(&str, &str)]) -> Answer {
    let mut pairs = pairs.to_vec();
    let authorization = if client.public {
        pairs.push(("client_id", client.id));
        None
    } else {
        Some(basic(client.id, CLIENT_SECRET))
    };
    post_form(token_url, authorization.as_deref(), &form(&pairs))
        .await
        .unwrap()
}

/// Asserts a token endpoint refusal with `invalid_grant` that issued nothing.
pub fn assert_invalid_grant(answer: &Answer, case: &str) {
    assert_eq!(answer.status, 400, "{case}: {:?}", answer.body);
    assert_eq!(answer.body["error"], "invalid_grant", "{case}");
    assert_eq!(answer.body.get("access_token"), None, "{case}");
}

/// Redeems `code` from `request` as its client would: the same redirect URI, and the PKCE
/// verifier if a challenge was sent.
pub async fn redeem(token_url: &str, request: &Authorize, code: &str) -> Answer {
    let verifier = request
        .param("code_challenge")
        .map(|_| request.pkce.verifier.as_str());
    redeem_as(
        token_url,
        request.client,
        code,
        request.redirect_uri(),
        verifier,
    )
    .await
}

/// Redeems `code` as `client`, with exactly the redirect URI and verifier given (what an
/// attacker controls).
pub async fn redeem_as(
    token_url: &str,
    client: TestClient,
    code: &str,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> Answer {
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    pairs.extend(verifier.map(|verifier| ("code_verifier", verifier)));
    token_request(token_url, client, &pairs).await
}

/// [`redeem`], asserting success; returns the token response.
pub async fn redeem_ok(token_url: &str, request: &Authorize, code: &str) -> Value {
    let answer = redeem(token_url, request, code).await;
    assert_eq!(
        answer.status, 200,
        "redeeming a fresh code: {:?}",
        answer.body
    );
    answer.body
}

/// A refresh token request, optionally narrowing the scope.
pub async fn refresh(
    token_url: &str,
    client: TestClient,
    refresh_token: &str,
    scope: Option<&str>,
) -> Answer {
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = scope {
        pairs.push(("scope", scope));
    }
    token_request(token_url, client, &pairs).await
}

/// [`refresh`] with the whole scope, asserting success; returns the new refresh token.
pub async fn rotated(token_url: &str, client: TestClient, refresh_token: &str) -> String {
    let answer = refresh(token_url, client, refresh_token, None).await;
    assert_eq!(answer.status, 200, "refreshing: {:?}", answer.body);
    field(&answer.body, "refresh_token").to_owned()
}

/// Whether `token` is active, as its own (confidential) client sees it at introspection.
pub async fn is_active(introspection_url: &str, client: TestClient, token: &str) -> bool {
    let answer = post_form(
        introspection_url,
        Some(&basic(client.id, CLIENT_SECRET)),
        &form(&[("token", token)]),
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200, "introspection: {:?}", answer.body);
    answer.body["active"] == true
}

/// `GET` the userinfo endpoint with a bearer token.
pub async fn userinfo(url: &str, access_token: &str) -> Answer {
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    sigil_testkit::client::answer(response).await.unwrap()
}

/// Verifies `id_token` against the JWKS at `jwks_url` for `issuer` and `client` and returns
/// its claims (nonce and hashes are the caller's to check).
pub async fn id_token_claims(jwks_url: &str, issuer: &str, client: &str, id_token: &str) -> Value {
    let jwks = get_json(jwks_url).await.unwrap();
    verify_id_token(id_token, &jwks, issuer, client)
        .unwrap_or_else(|error| panic!("ID token rejected: {error:#}\n{id_token}"))
}

/// The claims of an ID token `sigil` issued under its own URL, verified for `client`.
pub async fn verified(sigil: &SigilDev, client: &str, id_token: &str) -> Value {
    id_token_claims(
        &sigil.url("/.well-known/jwks.json"),
        &sigil.base_url,
        client,
        id_token,
    )
    .await
}

/// A token response's string field `name`; panics with the response if missing.
pub fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("no `{name}` in {body}"))
}

/// The words of a `scope` value.
pub fn scopes(value: &str) -> BTreeSet<&str> {
    value.split(' ').filter(|s| !s.is_empty()).collect()
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Fills the login form of `page` with `user`'s credentials and posts it, following nothing:
/// the answer to the login post itself.
pub async fn post_credentials(browser: &mut Browser, page: &Page, user: &User) -> Page {
    let login = page.form("/account/login").unwrap();
    let pairs = login.fill(&[("username", user.username), ("password", user.password)]);
    browser
        .post_form(&page.resolve(&login.action).unwrap(), &pairs)
        .await
        .unwrap()
}

/// How long until the wall clock (which the server reads too) has just entered a new second.
pub fn until_the_next_second() -> std::time::Duration {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let rest = 1000 - u64::from(since_epoch.subsec_millis());
    std::time::Duration::from_millis(rest + 20)
}

/// The cookies `SameSite=Lax` keeps home when another site's form posts to the server.
pub const LAX_COOKIES: [&str; 2] = ["sigil_session", "sigil_browser"];

/// Posts `pairs` to `url` as another site's form post arrives: without the `SameSite=Lax`
/// cookies. The browser keeps what the answer sets, as a real one does, and keeps its other
/// cookies.
pub async fn post_from_another_site(
    browser: &mut Browser,
    url: &str,
    pairs: &[(&str, &str)],
) -> Page {
    let saved: Vec<(&str, String)> = LAX_COOKIES
        .iter()
        .filter_map(|name| Some((*name, browser.cookie(name)?.to_owned())))
        .collect();
    for name in LAX_COOKIES {
        browser.remove_cookie(name);
    }
    let page = browser.post_form(url, pairs).await.unwrap();
    for (name, value) in saved {
        if page.set_cookie(name).is_none() {
            browser.set_cookie(name, &value);
        }
    }
    page
}
