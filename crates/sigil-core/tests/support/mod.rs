//! Shared set-up for the grant handler tests: the real embedded grant store (openraft over
//! sled on a temporary directory, the cluster's state machine) and a real key ring, behind the
//! core's public entry point.
//!
//! Tests call only the small functions here (`sign_in`, `redeem`, `refresh`, `introspect`,
//! ...), never the core's entry point directly, so that a change of that entry point changes
//! this file alone.
//!
//! Time: the store stamps its commands with its own clock and never returns a grant past its
//! expiry, while the core takes `now` as a parameter. Requests here pass the real current time
//! ([`Env::now`]), so both agree; a test of the core's own expiry checks passes a `now` in the
//! future ([`Env::later`]), and a test of expiry as the store sees it uses short lifetimes and
//! a real wait ([`wait_past`]). Sign-in throttling is the store's alone (its clock stamps each
//! throttle command), so a throttle test waits for the end the store reports ([`wait_until`]).
//!
//! Alongside the token requests, the services' other entry points are here as the HTTP layer
//! calls them (`token_request`, `introspect_request`, `revoke_request`, `authorize`,
//! `consent`, `log_in`, ...), for tests of the answers beyond a token.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};
use sigil_core::authorize::{
    AuthorizationRequest, AuthorizeError, AuthorizeStep, ConsentDecision, LoginAttempt,
    LoginThrottle, SignInOutcome,
};
use sigil_core::context::{ServiceSettings, SessionSettings};
use sigil_core::endpoint::{
    Failure, IntrospectionSuccess, RevocationSuccess, Services, TokenSuccess,
};
use sigil_core::error::ProtocolError;
use sigil_core::grants::{DuplicateGrantType, GrantHandler, TokenResponse};
use sigil_core::handle::{GrantKey, new_handle};
use sigil_core::model::{
    AccessTokenFormat, ApiResource, ApiScope, Catalog, Client, RefreshIssue, Session,
    TokenEndpointAuthMethod, User, UserStore, UserStoreError,
};
use sigil_core::parameters::Parameters;
use sigil_core::secret::{CheckRefused, InlineChecks, SecretHash};
use sigil_core::signing::{Algorithm, TokenSigner as _};
use sigil_core::store::{Grant, GrantKind, GrantStore as _, PutOutcome};
use sigil_core::time::Timestamp;
use sigil_core::tokens::{IdTokenRequest, Minter};
use sigil_keys::{KeyRing, KeySet, RotationPolicy, SigningKey};
use sigil_store::embedded::EmbeddedStore;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;

/// The issuer.
pub const ISSUER: &str = "https://sigil.test";
/// Every confidential client's secret, and the APIs' introspection secret.
pub const SECRET: &str = "s3cret";
/// The orders API (scopes `orders.read`, `orders.write`), which may introspect.
pub const ORDERS: &str = "https://orders.test";
/// The billing API (scope `billing.read`).
pub const BILLING: &str = "https://billing.test";

/// A client as a test uses it: who it is, how it authenticates, where its codes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestClient {
    /// The client id.
    pub id: &'static str,
    /// Its secret (HTTP Basic), or `None` for a public client (`client_id` in the form).
    pub secret: Option<&'static str>,
    /// Its (first) registered redirect URI.
    pub redirect_uri: &'static str,
}

/// Confidential, JWT access tokens, PKCE required, refresh tokens with `offline_access`.
/// Also registers [`WEB_OTHER_REDIRECT`].
pub const WEB: TestClient = TestClient {
    id: "web",
    secret: Some(SECRET),
    redirect_uri: "https://web.test/cb",
};
/// `web`'s second registered redirect URI.
pub const WEB_OTHER_REDIRECT: &str = "https://web.test/other";
/// Confidential, reference access tokens, otherwise like `web`.
pub const PORTAL: TestClient = TestClient {
    id: "portal",
    secret: Some(SECRET),
    redirect_uri: "https://portal.test/cb",
};
/// Public (no authentication), PKCE required.
pub const SPA: TestClient = TestClient {
    id: "spa",
    secret: None,
    redirect_uri: "https://spa.test/cb",
};
/// Confidential, PKCE optional: a code may be issued without a challenge.
pub const LEGACY: TestClient = TestClient {
    id: "legacy",
    secret: Some(SECRET),
    redirect_uri: "https://legacy.test/cb",
};
/// Confidential, refresh tokens on every sign-in, `offline_access` or not.
pub const ALWAYS: TestClient = TestClient {
    id: "always",
    secret: Some(SECRET),
    redirect_uri: "https://always.test/cb",
};
/// Confidential, may ask for `offline_access` but not use the `refresh_token` grant.
pub const NO_REFRESH: TestClient = TestClient {
    id: "no-refresh",
    secret: Some(SECRET),
    redirect_uri: "https://no-refresh.test/cb",
};
/// `client_credentials`, JWT access tokens, scopes of both APIs (and `openid`, which a
/// machine token never carries).
pub const MACHINE: TestClient = TestClient {
    id: "machine",
    secret: Some(SECRET),
    redirect_uri: "",
};
/// `client_credentials`, reference access tokens, `orders.read` only.
pub const MACHINE_REF: TestClient = TestClient {
    id: "machine-ref",
    secret: Some(SECRET),
    redirect_uri: "",
};
/// `client_credentials`, `billing.read` only.
pub const BILLING_ONLY: TestClient = TestClient {
    id: "billing-only",
    secret: Some(SECRET),
    redirect_uri: "",
};

/// A grant type no built-in handler serves, for tests of the grant registry.
pub const EXTENSION_GRANT_TYPE: &str = "urn:example:params:oauth:grant-type:stamp";
/// Confidential, allowed only [`EXTENSION_GRANT_TYPE`] (which a test registers), `orders.read`.
pub const EXTENSION: TestClient = TestClient {
    id: "ext-app",
    secret: Some(SECRET),
    redirect_uri: "",
};

/// The scopes a sign-in asks for when a test does not care: a refresh token comes with them.
pub const SIGN_IN_SCOPES: &str = "openid profile offline_access orders.read";

/// A user who signs in.
#[derive(Debug, Clone, Copy)]
pub struct TestUser {
    /// User name.
    pub username: &'static str,
    /// Password.
    pub password: &'static str,
    /// Subject (`sub`).
    pub subject: &'static str,
}

/// Alice.
pub const ALICE: TestUser = TestUser {
    username: "alice",
    password: "alice-password",
    subject: "alice-id",
};
/// Bob.
pub const BOB: TestUser = TestUser {
    username: "bob",
    password: "bob-password",
    subject: "bob-id",
};

/// A running core over a real store and key ring; the store's directory lives as long as this.
pub struct Env {
    services: Services,
    store: Arc<EmbeddedStore>,
    signer: Arc<KeyRing>,
    _dir: TempDir,
}

impl Env {
    /// The current time, as the store's clock reads it too.
    pub fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    /// `seconds` from now: for the core's own expiry checks, which the store's clock does not
    /// reach yet.
    pub fn later(&self, seconds: u64) -> Timestamp {
        Timestamp::now().plus(Duration::from_secs(seconds))
    }
}

/// The environment with every client as registered below.
pub async fn env() -> Env {
    env_with(|_| {}).await
}

/// The environment with `change` applied to each client before the catalog is built (match on
/// `client.client_id` to change one).
pub async fn env_with(change: impl Fn(&mut Client)) -> Env {
    env_configured(change, LoginThrottle::off()).await
}

/// The environment with sign-in throttling as given.
pub async fn env_throttled(login_throttle: LoginThrottle) -> Env {
    env_configured(|_| {}, login_throttle).await
}

/// The environment with `change` applied to each client and sign-in throttling as given.
async fn env_configured(change: impl Fn(&mut Client), login_throttle: LoginThrottle) -> Env {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = Arc::new(
        EmbeddedStore::open(dir.path())
            .await
            .expect("the embedded store opens"),
    );
    let mut clients = clients();
    for client in &mut clients {
        change(client);
    }
    let catalog = Catalog::new(clients, api_scopes(), resources());
    let signer = Arc::new(key_ring());
    let services = Services::new(ServiceSettings {
        issuer: ISSUER.to_owned(),
        assertion_audiences: Vec::new(),
        catalog: Arc::new(catalog),
        store: store.clone(),
        signer: signer.clone(),
        users: Arc::new(Users),
        secret_checks: Arc::new(InlineChecks),
        sessions: SessionSettings {
            login_throttle,
            ..SessionSettings::default()
        },
    });
    Env {
        services,
        store,
        signer,
        _dir: dir,
    }
}

/// A key ring with one generated ES256 key, dated to the epoch so that it signs at once.
fn key_ring() -> KeyRing {
    let (key, _) = SigningKey::generate(Algorithm::ES256).expect("an ES256 key");
    let key = key.with_created(Timestamp(0)).with_not_before(Timestamp(0));
    KeyRing::new(
        KeySet::new(vec![key], Vec::new()),
        Algorithm::ES256,
        RotationPolicy::default(),
    )
    .expect("a key ring")
}

fn api_scopes() -> Vec<ApiScope> {
    ["orders.read", "orders.write", "billing.read"]
        .into_iter()
        .map(|name| ApiScope {
            name: name.to_owned(),
            description: None,
        })
        .collect()
}

fn resources() -> Vec<ApiResource> {
    vec![
        ApiResource {
            identifier: ORDERS.to_owned(),
            scopes: vec!["orders.read".to_owned(), "orders.write".to_owned()],
            introspection_secrets: vec![SecretHash::sha256_of(SECRET)],
        },
        ApiResource {
            identifier: BILLING.to_owned(),
            scopes: vec!["billing.read".to_owned()],
            introspection_secrets: Vec::new(),
        },
    ]
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| (*value).to_owned()).collect()
}

/// A confidential client with a SHA-256-hashed [`SECRET`] and ES256 id_tokens.
fn base_client(id: &str, format: AccessTokenFormat) -> Client {
    let mut client = Client {
        client_id: id.to_owned(),
        auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        secrets: vec![SecretHash::sha256_of(SECRET)],
        jwks: Vec::new(),
        grant_types: Vec::new(),
        scopes: Vec::new(),
        access_token_format: format,
        access_token_lifetime: Duration::from_secs(300),
        sign_in: Default::default(),
    };
    client.sign_in.id_token_signed_response_alg = Algorithm::ES256;
    client
}

/// A client that signs users in at `redirect_uri`, without a consent page.
fn sign_in_client(client: TestClient, format: AccessTokenFormat) -> Client {
    let mut registered = base_client(client.id, format);
    registered.grant_types = strings(&["authorization_code", "refresh_token"]);
    registered.scopes = strings(&["openid", "profile", "offline_access", "orders.read"]);
    registered.sign_in.redirect_uris = vec![client.redirect_uri.to_owned()];
    registered.sign_in.require_consent = false;
    registered
}

fn clients() -> Vec<Client> {
    let mut web = sign_in_client(WEB, AccessTokenFormat::Jwt);
    web.sign_in
        .redirect_uris
        .push(WEB_OTHER_REDIRECT.to_owned());
    let portal = sign_in_client(PORTAL, AccessTokenFormat::Reference);
    let mut spa = sign_in_client(SPA, AccessTokenFormat::Jwt);
    spa.auth_method = TokenEndpointAuthMethod::None;
    spa.secrets.clear();
    let mut legacy = sign_in_client(LEGACY, AccessTokenFormat::Jwt);
    legacy.sign_in.require_pkce = false;
    let mut always = sign_in_client(ALWAYS, AccessTokenFormat::Jwt);
    always.sign_in.refresh.issue = RefreshIssue::Always;
    let mut no_refresh = sign_in_client(NO_REFRESH, AccessTokenFormat::Jwt);
    no_refresh.grant_types = strings(&["authorization_code"]);
    let machine_client = |client: TestClient, format, scopes: &[&str]| {
        let mut registered = base_client(client.id, format);
        registered.grant_types = strings(&["client_credentials"]);
        registered.scopes = strings(scopes);
        registered
    };
    let mut extension = machine_client(EXTENSION, AccessTokenFormat::Jwt, &["orders.read"]);
    extension.grant_types = strings(&[EXTENSION_GRANT_TYPE]);
    vec![
        web,
        portal,
        spa,
        legacy,
        always,
        no_refresh,
        machine_client(
            MACHINE,
            AccessTokenFormat::Jwt,
            // `openid` too: a machine token leaves it out, or refuses it when asked for.
            &["openid", "orders.read", "orders.write", "billing.read"],
        ),
        machine_client(MACHINE_REF, AccessTokenFormat::Reference, &["orders.read"]),
        machine_client(BILLING_ONLY, AccessTokenFormat::Jwt, &["billing.read"]),
        extension,
    ]
}

/// A user name whose password cannot be checked right now (the checks are saturated).
pub const BUSY_USER: &str = "busy";

/// A user name whose password check takes a second and then fails: attempts that arrive
/// together are all admitted before the first of them is checked.
pub const SLOW_USER: &str = "slow";

/// Alice and Bob, with plain passwords: what is tested here is the grants, not password hashes.
/// [`BUSY_USER`]'s password cannot be checked; [`SLOW_USER`]'s check is slow and fails.
struct Users;

impl Users {
    fn user(found: Option<&TestUser>) -> Option<Arc<User>> {
        found.map(|user| {
            Arc::new(User {
                subject: user.subject.to_owned(),
                username: user.username.to_owned(),
                claims: serde_json::Map::new(),
            })
        })
    }
}

#[async_trait::async_trait]
impl UserStore for Users {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Arc<User>>, UserStoreError> {
        if username == BUSY_USER {
            return Err(UserStoreError::Busy(CheckRefused::OwnerBusy));
        }
        if username == SLOW_USER {
            tokio::time::sleep(Duration::from_secs(1)).await;
            return Ok(None);
        }
        let found = [ALICE, BOB]
            .iter()
            .find(|user| user.username == username && user.password == password);
        Ok(Self::user(found))
    }

    async fn find(&self, subject: &str) -> Result<Option<Arc<User>>, UserStoreError> {
        let found = [ALICE, BOB].iter().find(|user| user.subject == subject);
        Ok(Self::user(found))
    }
}

/// A PKCE verifier and its S256 challenge (RFC 7636 §4.1, §4.2).
#[derive(Debug, Clone)]
pub struct Pkce {
    /// The verifier (43 characters).
    pub verifier: String,
    /// `BASE64URL(SHA256(verifier))`.
    pub challenge: String,
}

impl Pkce {
    /// A fresh random pair.
    pub fn s256() -> Self {
        let verifier = new_handle();
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Self {
            verifier,
            challenge,
        }
    }
}

/// An authorization code just issued, with what its authorization request said.
#[derive(Debug, Clone)]
pub struct Code {
    /// The client it was issued to.
    pub client: TestClient,
    /// The code.
    pub code: String,
    /// The PKCE pair whose challenge the request sent, if it sent one.
    pub pkce: Option<Pkce>,
    /// The authorization request's redirect URI.
    pub redirect_uri: String,
}

impl Code {
    /// The right verifier, if the request sent a challenge.
    pub fn verifier(&self) -> Option<&str> {
        self.pkce.as_ref().map(|pkce| pkce.verifier.as_str())
    }
}

/// Alice signs in for `client`, asking for `scope`, with a fresh S256 challenge.
pub async fn code(env: &Env, client: TestClient, scope: &str) -> Code {
    sign_in(
        env,
        client,
        &ALICE,
        scope,
        Some(Pkce::s256()),
        client.redirect_uri,
    )
    .await
}

/// `user` signs in on the login page and the authorization endpoint answers with a code: the
/// request carries `scope`, `pkce`'s challenge (if any) and `redirect_uri`.
pub async fn sign_in(
    env: &Env,
    client: TestClient,
    user: &TestUser,
    scope: &str,
    pkce: Option<Pkce>,
    redirect_uri: &str,
) -> Code {
    sign_in_at(env, client, user, scope, pkce, redirect_uri, env.now()).await
}

/// [`sign_in`] at the core's `now` (the sign-in and the authorization request).
pub async fn sign_in_at(
    env: &Env,
    client: TestClient,
    user: &TestUser,
    scope: &str,
    pkce: Option<Pkce>,
    redirect_uri: &str,
    now: Timestamp,
) -> Code {
    let attempt = LoginAttempt {
        username: user.username,
        password: user.password,
        address: IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let session = match env.services.authorizer.sign_in(&attempt, now).await {
        Ok(SignInOutcome::SignedIn(session)) => session,
        other => panic!("{} did not sign in: {other:?}", user.username),
    };
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client.id),
        ("redirect_uri", redirect_uri),
        ("scope", scope),
        ("state", "state-1"),
    ];
    if let Some(pkce) = &pkce {
        pairs.push(("code_challenge", &pkce.challenge));
        pairs.push(("code_challenge_method", "S256"));
    }
    let params = form(&pairs);
    let issued = match env
        .services
        .authorizer
        .authorize(&params, Some(&session), now)
        .await
    {
        Ok(AuthorizeStep::Respond(issued)) => issued,
        Ok(other) => panic!("expected a response for {}, got {other:?}", client.id),
        Err(AuthorizeError::Redirect(redirect)) => {
            panic!(
                "authorization refused for {}: {:?}",
                client.id, redirect.params
            )
        }
        Err(AuthorizeError::Untrusted(error)) => {
            panic!("authorization refused for {}: {error:?}", client.id)
        }
    };
    let code = issued
        .redirect
        .param("code")
        .unwrap_or_else(|| panic!("no code in {:?}", issued.redirect.params))
        .to_owned();
    Code {
        client,
        code,
        pkce,
        redirect_uri: redirect_uri.to_owned(),
    }
}

/// Redeems `code` as issued: its client, its verifier, its redirect URI.
pub async fn redeem(env: &Env, code: &Code) -> Result<TokenResponse, ProtocolError> {
    redeem_as(
        env,
        code.client,
        &code.code,
        code.verifier(),
        Some(&code.redirect_uri),
    )
    .await
}

/// Redeems `code` as issued, which must succeed.
pub async fn redeem_ok(env: &Env, code: &Code) -> TokenResponse {
    redeem(env, code)
        .await
        .unwrap_or_else(|error| panic!("redeeming a code for {}: {error:?}", code.client.id))
}

/// A code redemption by `client`, with `verifier` and `redirect_uri` as given (`None`: the
/// parameter is left out).
pub async fn redeem_as(
    env: &Env,
    client: TestClient,
    code: &str,
    verifier: Option<&str>,
    redirect_uri: Option<&str>,
) -> Result<TokenResponse, ProtocolError> {
    let mut pairs = vec![("grant_type", "authorization_code"), ("code", code)];
    if let Some(verifier) = verifier {
        pairs.push(("code_verifier", verifier));
    }
    if let Some(redirect_uri) = redirect_uri {
        pairs.push(("redirect_uri", redirect_uri));
    }
    token(env, client, &pairs, env.now()).await
}

/// A sign-in for `client` with [`SIGN_IN_SCOPES`], redeemed: the token response, which
/// carries a refresh token.
pub async fn signed_in_tokens(env: &Env, client: TestClient) -> TokenResponse {
    let code = code(env, client, SIGN_IN_SCOPES).await;
    redeem_ok(env, &code).await
}

/// A refresh token for `client` from a fresh sign-in.
pub async fn refresh_token(env: &Env, client: TestClient) -> String {
    signed_in_tokens(env, client)
        .await
        .refresh_token
        .unwrap_or_else(|| panic!("no refresh token for {}", client.id))
}

/// A refresh by `client` with `refresh_token`, narrowing to `scope` if given.
pub async fn refresh(
    env: &Env,
    client: TestClient,
    refresh_token: &str,
    scope: Option<&str>,
) -> Result<TokenResponse, ProtocolError> {
    refresh_at(env, client, refresh_token, scope, env.now()).await
}

/// [`refresh`] at the core's `now`.
pub async fn refresh_at(
    env: &Env,
    client: TestClient,
    refresh_token: &str,
    scope: Option<&str>,
    now: Timestamp,
) -> Result<TokenResponse, ProtocolError> {
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    if let Some(scope) = scope {
        pairs.push(("scope", scope));
    }
    token(env, client, &pairs, now).await
}

/// A refresh that must succeed: the successor refresh token.
pub async fn rotated(env: &Env, client: TestClient, refresh_token: &str) -> String {
    refresh(env, client, refresh_token, None)
        .await
        .unwrap_or_else(|error| panic!("refreshing for {}: {error:?}", client.id))
        .refresh_token
        .unwrap_or_else(|| panic!("a refresh for {} returned no refresh token", client.id))
}

/// A `client_credentials` request by `client` with `extra` parameters (`scope`, `resource`).
pub async fn client_credentials(
    env: &Env,
    client: TestClient,
    extra: &[(&str, &str)],
) -> Result<TokenResponse, ProtocolError> {
    let mut pairs = vec![("grant_type", "client_credentials")];
    pairs.extend_from_slice(extra);
    token(env, client, &pairs, env.now()).await
}

/// A token request by `client` (HTTP Basic, or `client_id` in the form for a public client).
pub async fn token(
    env: &Env,
    client: TestClient,
    pairs: &[(&str, &str)],
    now: Timestamp,
) -> Result<TokenResponse, ProtocolError> {
    let (authorization, pairs) = credentials(client, pairs);
    env.services
        .tokens
        .token(authorization.as_deref(), None, &form(&pairs), now)
        .await
        .map(|success| success.response)
        .map_err(|failure| failure.error)
}

/// What introspection tells `client` about `token` (RFC 7662; a client sees its own tokens).
pub async fn introspect(
    env: &Env,
    client: TestClient,
    token: &str,
) -> sigil_core::endpoint::IntrospectionResponse {
    let (authorization, pairs) = credentials(client, &[("token", token)]);
    env.services
        .inspector
        .introspect(authorization.as_deref(), &form(&pairs), env.now())
        .await
        .unwrap_or_else(|failure| panic!("introspection as {}: {:?}", client.id, failure.error))
        .response
}

/// What introspection tells the API `resource` about `token`.
pub async fn introspect_as_api(
    env: &Env,
    resource: &str,
    token: &str,
) -> sigil_core::endpoint::IntrospectionResponse {
    env.services
        .inspector
        .introspect(
            Some(&basic(resource, SECRET)),
            &form(&[("token", token)]),
            env.now(),
        )
        .await
        .unwrap_or_else(|failure| panic!("introspection as {resource}: {:?}", failure.error))
        .response
}

/// True if `token` is active at introspection by `client`.
pub async fn is_active(env: &Env, client: TestClient, token: &str) -> bool {
    introspect(env, client, token).await.active
}

/// Waits until the store's clock (whole seconds) is surely past `seconds` from now.
pub async fn wait_past(seconds: u64) {
    tokio::time::sleep(Duration::from_millis(seconds * 1000 + 1100)).await;
}

/// Waits until the store's clock (whole seconds) has reached `at`.
pub async fn wait_until(at: Timestamp) {
    while !Timestamp::now().reached(at) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Asserts that `result` is the RFC 6749 error `code`.
#[track_caller]
pub fn assert_error<T: std::fmt::Debug>(result: Result<T, ProtocolError>, code: &str, case: &str) {
    match result {
        Err(error) => assert_eq!(error.code.as_str(), code, "{case}: {error:?}"),
        Ok(value) => panic!("{case}: expected {code}, got {value:?}"),
    }
}

/// Asserts that `result` is `invalid_grant`.
#[track_caller]
pub fn assert_invalid_grant<T: std::fmt::Debug>(result: Result<T, ProtocolError>, case: &str) {
    assert_error(result, "invalid_grant", case);
}

/// The authorization header and form pairs `client` authenticates with.
fn credentials<'a>(
    client: TestClient,
    pairs: &[(&'a str, &'a str)],
) -> (Option<String>, Vec<(&'a str, &'a str)>) {
    let mut pairs = pairs.to_vec();
    match client.secret {
        Some(secret) => (Some(basic(client.id, secret)), pairs),
        None => {
            pairs.push(("client_id", client.id));
            (None, pairs)
        }
    }
}

/// HTTP Basic as RFC 6749 §2.3.1 has clients send it: id and secret form-encoded first (an
/// API's id is a URI, with a colon).
pub fn basic(id: &str, secret: &str) -> String {
    let encode =
        |value: &str| form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encode(id), encode(secret));
    format!("Basic {}", STANDARD.encode(pair))
}

/// Form pairs as the server parses a request body (`resource` may repeat, RFC 8707).
fn form(pairs: &[(&str, &str)]) -> Parameters {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    Parameters::parse(body.as_bytes(), &["resource"]).expect("a well-formed form")
}

/// The claims of a JWT, unverified (the test only reads what the core put in).
pub fn jwt_claims(token: &str) -> serde_json::Value {
    let claims = token.split('.').nth(1).expect("a JWT has claims");
    let bytes = URL_SAFE_NO_PAD.decode(claims).expect("base64url claims");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

// ---- The services' entry points as the HTTP layer calls them, for tests of the answers ----

/// A token request as the HTTP layer hands it on: the `Authorization` header, the `Origin`
/// header and the form `body`, at the core's `now`.
pub async fn token_request(
    env: &Env,
    authorization: Option<&str>,
    origin: Option<&str>,
    body: &str,
    now: Timestamp,
) -> Result<TokenSuccess, Failure> {
    env.services
        .tokens
        .token(authorization, origin, &body_form(body), now)
        .await
}

/// An introspection request (RFC 7662) with the `Authorization` header and form `body`.
pub async fn introspect_request(
    env: &Env,
    authorization: Option<&str>,
    body: &str,
    now: Timestamp,
) -> Result<IntrospectionSuccess, Failure> {
    env.services
        .inspector
        .introspect(authorization, &body_form(body), now)
        .await
}

/// A revocation request (RFC 7009) with the `Authorization` and `Origin` headers and `body`.
pub async fn revoke_request(
    env: &Env,
    authorization: Option<&str>,
    origin: Option<&str>,
    body: &str,
    now: Timestamp,
) -> Result<RevocationSuccess, Failure> {
    env.services
        .inspector
        .revoke(authorization, origin, &body_form(body), now)
        .await
}

/// What the userinfo endpoint answers for the bearer `access_token`.
pub async fn userinfo(
    env: &Env,
    access_token: &str,
    now: Timestamp,
) -> Result<serde_json::Map<String, serde_json::Value>, ProtocolError> {
    env.services.inspector.userinfo(access_token, now).await
}

/// Registers an extension grant with the token service.
pub fn register_grant(
    env: &mut Env,
    handler: Arc<dyn GrantHandler>,
) -> Result<(), DuplicateGrantType> {
    env.services.tokens.register_grant(handler)
}

/// The grant types the token service serves.
pub fn grant_types(env: &Env) -> Vec<String> {
    let types = env.services.tokens.grant_types();
    types.into_iter().map(str::to_owned).collect()
}

/// The minter the services issue tokens with, as an extension grant gets it.
pub fn minter(env: &Env) -> Arc<Minter> {
    Arc::clone(&env.services.context().minter)
}

/// A sign-in on the login page by `username` with `password` from `address` at `at`.
pub async fn log_in(
    env: &Env,
    username: &str,
    password: &str,
    address: IpAddr,
    at: Timestamp,
) -> Result<SignInOutcome, ProtocolError> {
    let attempt = LoginAttempt {
        username,
        password,
        address,
    };
    env.services.authorizer.sign_in(&attempt, at).await
}

/// `user` signs in at `at` (from 127.0.0.1): the session.
pub async fn session_at(env: &Env, user: &TestUser, at: Timestamp) -> Session {
    let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
    match log_in(env, user.username, user.password, localhost, at).await {
        Ok(SignInOutcome::SignedIn(session)) => session,
        other => panic!("{} did not sign in: {other:?}", user.username),
    }
}

/// Ends `session` (its record is removed, as at the end-session endpoint).
pub async fn end_session(env: &Env, session: &Session) {
    env.services
        .authorizer
        .end_session_record(session)
        .await
        .unwrap_or_else(|error| panic!("ending a session: {error:?}"));
}

/// What the authorization endpoint answers to `pairs` for the browser's `session` at `now`.
pub async fn authorize(
    env: &Env,
    pairs: &[(&str, &str)],
    session: Option<&Session>,
    now: Timestamp,
) -> Result<AuthorizeStep, AuthorizeError> {
    env.services
        .authorizer
        .authorize(&form(pairs), session, now)
        .await
}

/// The authorization request `request` taken up again after the login page.
pub async fn continue_authorize(
    env: &Env,
    request: AuthorizationRequest,
    session: Option<&Session>,
    now: Timestamp,
) -> Result<AuthorizeStep, AuthorizeError> {
    env.services
        .authorizer
        .continue_authorize(request, session, now)
        .await
}

/// The consent page's `decision` on `request`.
pub async fn consent(
    env: &Env,
    request: AuthorizationRequest,
    session: Option<&Session>,
    decision: ConsentDecision,
    now: Timestamp,
) -> Result<AuthorizeStep, AuthorizeError> {
    env.services
        .authorizer
        .consent(request, session, decision, now)
        .await
}

/// An ID token the core issues to `client` for `subject` at `at`, for `auth_time` a day
/// before (a hint may be long expired).
pub async fn id_token_at(env: &Env, client: TestClient, subject: &str, at: Timestamp) -> String {
    let registered = env.services.catalog().client(client.id).cloned();
    let registered = registered.unwrap_or_else(|| panic!("no client {}", client.id));
    env.services
        .context()
        .minter
        .id_token(IdTokenRequest {
            client: &registered,
            subject,
            nonce: None,
            auth_time: Timestamp(at.as_secs().saturating_sub(3600)),
            amr: &[],
            sid: None,
            access_token: None,
            code: None,
            user_claims: None,
            now: at,
        })
        .await
        .unwrap_or_else(|error| panic!("an ID token for {subject}: {error:?}"))
}

/// `claims` signed with this server's key under the header `typ`.
pub async fn signed_by_this_server(env: &Env, typ: &str, claims: &[u8]) -> String {
    env.signer
        .sign(typ, claims)
        .await
        .unwrap_or_else(|error| panic!("signing: {error:?}"))
}

/// Files a grant of `kind` with `payload` under `key` in the store itself, for `web` and
/// Alice, live for a minute: what another kind of grant under a key looks like (with the
/// payload of the kind looked for, so that only the kind tells them apart).
pub async fn file_foreign(env: &Env, key: GrantKey, kind: GrantKind, payload: &[u8]) {
    let now = env.now();
    let grant = Grant {
        key,
        kind,
        client_id: WEB.id.to_owned(),
        subject: Some(ALICE.subject.to_owned()),
        family: None,
        issued_at: now,
        expires_at: now.plus(Duration::from_secs(60)),
        consumed_at: None,
        payload: payload.to_vec(),
    };
    match env.store.put(grant).await {
        Ok(PutOutcome::Stored) => {}
        other => panic!("filing a {kind:?}: {other:?}"),
    }
}

/// A form body as the server parses it.
fn body_form(body: &str) -> Parameters {
    Parameters::parse(body.as_bytes(), &["resource"]).expect("a well-formed form")
}
