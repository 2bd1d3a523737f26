//! The token, introspection, revocation and userinfo endpoints as the HTTP layer calls them:
//! client authentication, grant type checks, who sees which token, revocation, browser
//! origins, and the grant registry's extension point.

use crate::support::*;
use sigil_core::access::GrantedAccess;
use sigil_core::endpoint::{Failure, TokenSuccess};
use sigil_core::error::{ErrorCode, ProtocolError};
use sigil_core::grants::BUILT_IN_GRANT_TYPES;
use sigil_core::grants::{ClientCredentials, GrantHandler, TokenRequest, TokenResponse};
use sigil_core::model::WebOrigin;
use sigil_core::scope::ScopeSet;
use sigil_core::time::Timestamp;
use sigil_core::tokens::{AccessTokenRequest, Minter};
use std::sync::Arc;

/// A client-credentials token for `client`, which must succeed.
async fn issue(env: &Env, client: TestClient, now: Timestamp) -> TokenSuccess {
    let body = "grant_type=client_credentials&scope=orders.read";
    token_request(env, Some(&basic(client.id, SECRET)), None, body, now)
        .await
        .unwrap()
}

#[tokio::test]
async fn client_credentials_issues_a_token_the_client_can_introspect() {
    let env = env().await;
    let now = env.now();
    let issued = issue(&env, MACHINE, now).await;
    assert_eq!(issued.response.scope.as_deref(), Some("orders.read"));
    let body = format!("token={}", issued.response.access_token);
    let answer = introspect_request(&env, Some(&basic(MACHINE.id, SECRET)), &body, now)
        .await
        .unwrap();
    assert!(answer.response.active);
    assert_eq!(answer.response.sub.as_deref(), Some(MACHINE.id));
}

#[tokio::test]
async fn authentication_failures_are_invalid_client_with_a_reason() {
    let env = env().await;
    let now = env.now();
    let cases = [
        (
            Some(basic(MACHINE.id, "wrong")),
            "grant_type=client_credentials".to_owned(),
        ),
        (
            Some(basic("nobody", SECRET)),
            "grant_type=client_credentials".to_owned(),
        ),
        (
            None,
            format!(
                "grant_type=client_credentials&client_id={}&client_secret={SECRET}",
                MACHINE.id
            ),
        ),
    ];
    for (header, body) in cases {
        let failure = token_request(&env, header.as_deref(), None, &body, now)
            .await
            .unwrap_err();
        assert_eq!(failure.error.code, ErrorCode::InvalidClient, "{body}");
        assert!(failure.auth_failure.is_some());
    }
    let failure = token_request(&env, None, None, "grant_type=client_credentials", now)
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::InvalidClient);
}

#[tokio::test]
async fn grant_type_checks() {
    let env = env().await;
    let now = env.now();
    let machine = basic(MACHINE.id, SECRET);
    let failure = token_request(&env, Some(&machine), None, "grant_type=password", now)
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::UnsupportedGrantType);
    // `web` may sign users in, but not use client_credentials.
    let web = basic(WEB.id, SECRET);
    let body = "grant_type=client_credentials";
    let failure = token_request(&env, Some(&web), None, body, now)
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::UnauthorizedClient);
    let failure = token_request(&env, Some(&machine), None, "", now)
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::InvalidRequest);
}

#[tokio::test]
async fn reference_tokens_are_visible_to_their_api_and_client_only() {
    let env = env().await;
    let now = env.now();
    let issued = issue(&env, MACHINE_REF, now).await;
    assert_eq!(issued.response.access_token.len(), 43);
    let body = format!("token={}", issued.response.access_token);
    let by_api = introspect_request(&env, Some(&basic(ORDERS, SECRET)), &body, now)
        .await
        .unwrap();
    assert!(by_api.response.active);
    assert_eq!(by_api.caller, ORDERS);
    let by_other = introspect_request(&env, Some(&basic(MACHINE.id, SECRET)), &body, now)
        .await
        .unwrap();
    assert!(!by_other.response.active);
    assert!(
        by_other.response.client_id.is_none(),
        "inactive answers reveal nothing"
    );
    // Past its 300 s lifetime as the core sees it (the store still holds it).
    let expired = Timestamp(now.as_secs() + 301);
    let later = introspect_request(&env, Some(&basic(MACHINE_REF.id, SECRET)), &body, expired)
        .await
        .unwrap();
    assert!(!later.response.active);
}

#[tokio::test]
async fn revocation_is_immediate_and_limited_to_the_owner() {
    let env = env().await;
    let now = env.now();
    for client in [MACHINE_REF, MACHINE] {
        let issued = issue(&env, client, now).await;
        let body = format!("token={}", issued.response.access_token);
        let other = basic(BILLING_ONLY.id, SECRET);
        let failure = revoke_request(&env, Some(&other), None, &body, now)
            .await
            .unwrap_err();
        assert_eq!(failure.error.code, ErrorCode::UnauthorizedClient);
        let owner = basic(client.id, SECRET);
        let still = introspect_request(&env, Some(&owner), &body, now)
            .await
            .unwrap();
        assert!(
            still.response.active,
            "a refused revocation changes nothing"
        );

        let outcome = revoke_request(&env, Some(&owner), None, &body, now)
            .await
            .unwrap();
        assert!(outcome.revoked);
        let after = introspect_request(&env, Some(&owner), &body, now)
            .await
            .unwrap();
        assert!(
            !after.response.active,
            "{}: revoked token must be inactive",
            client.id
        );
    }
}

#[tokio::test]
async fn unknown_and_tampered_tokens_are_inactive_and_revoke_quietly() {
    let env = env().await;
    let now = env.now();
    let issued = issue(&env, MACHINE, now).await;
    let mut tampered = issued.response.access_token.clone();
    tampered.push('x');
    let machine = basic(MACHINE.id, SECRET);
    for token in ["nonsense", "a.b.c", tampered.as_str()] {
        let body = format!("token={token}");
        let answer = introspect_request(&env, Some(&machine), &body, now)
            .await
            .unwrap();
        assert!(!answer.response.active, "{token}");
        let outcome = revoke_request(&env, Some(&machine), None, &body, now)
            .await
            .unwrap();
        assert!(!outcome.revoked);
    }
}

#[tokio::test]
async fn public_clients_cannot_introspect() {
    let env = env().await;
    let now = env.now();
    let issued = issue(&env, MACHINE, now).await;
    let token = &issued.response.access_token;
    // RFC 7662 §2.1: a client_id alone proves nothing, so it must not buy token scanning.
    for body in [
        format!("token={token}&client_id={}", SPA.id),
        format!("token={token}&client_id={}", MACHINE.id),
        format!("token={token}"),
    ] {
        let failure = introspect_request(&env, None, &body, now)
            .await
            .unwrap_err();
        assert_eq!(failure.error.code, ErrorCode::InvalidClient, "{body}");
    }
}

/// An environment where `always` (refresh tokens on every sign-in) has refresh tokens that
/// live an hour each, in a family that ends half an hour after the sign-in.
async fn env_with_short_families() -> Env {
    env_with(|client| {
        if client.client_id == ALWAYS.id {
            client.sign_in.refresh.sliding_lifetime = std::time::Duration::from_secs(3600);
            client.sign_in.refresh.absolute_lifetime = std::time::Duration::from_secs(1800);
        }
    })
    .await
}

/// Alice signs in for `always` at `now` with `openid orders.read` and the code is redeemed at
/// `now`: the refresh token.
async fn refresh_token_at(env: &Env, now: Timestamp) -> String {
    let code = sign_in_at(
        env,
        ALWAYS,
        &ALICE,
        "openid orders.read",
        Some(Pkce::s256()),
        ALWAYS.redirect_uri,
        now,
    )
    .await;
    let verifier = code.verifier().unwrap_or_default();
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.code.as_str()),
        ("code_verifier", verifier),
        ("redirect_uri", ALWAYS.redirect_uri),
    ];
    token(env, ALWAYS, &pairs, now)
        .await
        .unwrap()
        .refresh_token
        .unwrap()
}

#[tokio::test]
async fn a_client_may_introspect_its_own_live_refresh_token() {
    let env = env_with_short_families().await;
    let now = env.now();
    let refresh_token = refresh_token_at(&env, now).await;
    let body = format!("token={refresh_token}&token_type_hint=refresh_token");
    let own = introspect_request(&env, Some(&basic(ALWAYS.id, SECRET)), &body, now)
        .await
        .unwrap()
        .response;
    assert!(own.active);
    assert_eq!(own.client_id.as_deref(), Some(ALWAYS.id));
    assert_eq!(own.sub.as_deref(), Some(ALICE.subject));
    assert_eq!(own.scope.as_deref(), Some("openid orders.read"));
    assert_eq!(own.iat, Some(now.as_secs()));
    assert_eq!(
        own.exp,
        Some(now.as_secs() + 1800),
        "the family's end comes first"
    );
    assert_eq!(own.token_type, None, "`Bearer` types access tokens only");

    // Nobody else sees it: not another client, not an API (refresh tokens never go to APIs).
    for caller in [WEB.id, ORDERS] {
        let seen = introspect_request(&env, Some(&basic(caller, SECRET)), &body, now)
            .await
            .unwrap()
            .response;
        assert!(!seen.active, "{caller} saw always's refresh token");
    }
    // Past the family's end it is inactive, whatever its own expiry says.
    let later = Timestamp(now.as_secs() + 1800);
    let ended = introspect_request(&env, Some(&basic(ALWAYS.id, SECRET)), &body, later)
        .await
        .unwrap();
    assert!(!ended.response.active);
}

#[tokio::test]
async fn a_rotated_out_refresh_token_is_inactive_and_not_a_bearer_token() {
    let env = env().await;
    let now = env.now();
    let rotated_out = refresh_token(&env, WEB).await;
    let live = rotated(&env, WEB, &rotated_out).await;
    let body = format!("token={rotated_out}");
    let answer = introspect_request(&env, Some(&basic(WEB.id, SECRET)), &body, now)
        .await
        .unwrap();
    assert!(
        !answer.response.active,
        "a spent refresh token is not active"
    );

    let failure = userinfo(&env, &live, now).await.unwrap_err();
    assert_eq!(
        failure.code,
        ErrorCode::InvalidToken,
        "a refresh token is no access token"
    );
}

/// A JWT access token for `machine`, signed with the server's key, with `extra` claims added.
async fn signed_access_token(env: &Env, now: Timestamp, extra: serde_json::Value) -> String {
    let mut claims = serde_json::json!({
        "iss": ISSUER,
        "exp": now.as_secs() + 300,
        "aud": ORDERS,
        "sub": ALICE.subject,
        "client_id": MACHINE.id,
        "iat": now.as_secs(),
        "jti": "jti-1",
        "scope": "openid orders.read",
    });
    if let (Some(claims), serde_json::Value::Object(extra)) = (claims.as_object_mut(), extra) {
        claims.extend(extra);
    }
    signed_by_this_server(env, "at+jwt", claims.to_string().as_bytes()).await
}

#[tokio::test]
async fn an_access_token_is_not_valid_before_its_nbf() {
    let env = env().await;
    let now = env.now();
    let cases = [
        (serde_json::json!({}), true),
        (serde_json::json!({ "nbf": now.as_secs() }), true),
        (serde_json::json!({ "nbf": now.as_secs() + 1 }), false),
        (serde_json::json!({ "nbf": now.as_secs() + 3600 }), false),
        (serde_json::json!({ "nbf": "soon" }), false),
    ];
    for (extra, valid) in cases {
        let token = signed_access_token(&env, now, extra.clone()).await;
        let body = format!("token={token}");
        let seen = introspect_request(&env, Some(&basic(ORDERS, SECRET)), &body, now)
            .await
            .unwrap();
        assert_eq!(seen.response.active, valid, "introspection, {extra}");
        let info = userinfo(&env, &token, now).await;
        assert_eq!(info.is_ok(), valid, "userinfo, {extra}: {info:?}");
    }
}

#[tokio::test]
async fn another_clients_refresh_token_is_not_revoked_and_the_request_is_refused() {
    let env = env().await;
    let now = env.now();
    let refresh_token = refresh_token(&env, WEB).await;
    let body = format!("token={refresh_token}&token_type_hint=refresh_token");
    let failure = revoke_request(&env, Some(&basic(PORTAL.id, SECRET)), None, &body, now)
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::UnauthorizedClient);
    let still = introspect_request(&env, Some(&basic(WEB.id, SECRET)), &body, now)
        .await
        .unwrap();
    assert!(
        still.response.active,
        "a refused revocation changes nothing"
    );
}

// ---- Browser origins (the `Origin` header) at the token and revocation endpoints ----

/// `machine` registered this origin (see [`env_with_origin`]).
const APP_ORIGIN: &str = "https://app.test";

/// The environment where `machine` is also a browser app, at [`APP_ORIGIN`].
async fn env_with_origin() -> Env {
    env_with(|client| {
        if client.client_id == MACHINE.id {
            let origin = WebOrigin::parse(APP_ORIGIN).unwrap();
            client.sign_in.allowed_cors_origins = vec![origin];
        }
    })
    .await
}

/// A client-credentials request with `id` and `secret`, from `origin`.
async fn from_origin(
    env: &Env,
    id: &str,
    secret: &str,
    origin: Option<&str>,
) -> Result<TokenSuccess, Failure> {
    let body = "grant_type=client_credentials&scope=orders.read";
    token_request(env, Some(&basic(id, secret)), origin, body, env.now()).await
}

#[tokio::test]
async fn a_browser_origin_gets_tokens_only_for_the_clients_that_registered_it() {
    let env = env_with_origin().await;
    let token = |origin| from_origin(&env, MACHINE.id, SECRET, origin);
    for allowed in [None, Some(APP_ORIGIN), Some(ISSUER)] {
        assert!(token(allowed).await.is_ok(), "{allowed:?}");
    }
    for refused in [
        "https://evil.test",
        "null",
        "https://app.test/",
        "http://app.test",
        "https://app.test:8443",
        "",
    ] {
        let failure = token(Some(refused)).await.unwrap_err();
        assert_eq!(
            failure.error.code,
            ErrorCode::UnauthorizedClient,
            "{refused}"
        );
        assert_eq!(failure.client_id.as_deref(), Some(MACHINE.id));
        assert!(failure.auth_failure.is_none(), "authentication succeeded");
    }
    // Another client never registered the origin.
    let failure = from_origin(&env, MACHINE_REF.id, SECRET, Some(APP_ORIGIN))
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::UnauthorizedClient);
}

#[tokio::test]
async fn wrong_credentials_stay_invalid_client_whatever_the_origin() {
    let env = env_with_origin().await;
    let failure = from_origin(&env, MACHINE.id, "wrong", Some("https://evil.test"))
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::InvalidClient);
}

#[tokio::test]
async fn a_refused_revocation_revokes_nothing() {
    let env = env_with_origin().await;
    let now = env.now();
    let credentials = basic(MACHINE.id, SECRET);
    let issued = from_origin(&env, MACHINE.id, SECRET, None).await.unwrap();
    let body = format!("token={}", issued.response.access_token);
    let failure = revoke_request(
        &env,
        Some(&credentials),
        Some("https://evil.test"),
        &body,
        now,
    )
    .await
    .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::UnauthorizedClient);
    let active = || introspect_request(&env, Some(&credentials), &body, now);
    assert!(
        active().await.unwrap().response.active,
        "still active after the refusal"
    );
    revoke_request(&env, Some(&credentials), Some(APP_ORIGIN), &body, now)
        .await
        .unwrap();
    assert!(
        !active().await.unwrap().response.active,
        "revoked from the app's origin"
    );
}

// ---- The grant registry: the extension point new grants build on ----

/// An extension grant: a token for the client itself, for the orders API.
struct Stamp(Arc<Minter>);

#[async_trait::async_trait]
impl GrantHandler for Stamp {
    fn grant_type(&self) -> &str {
        EXTENSION_GRANT_TYPE
    }
    async fn handle(&self, request: TokenRequest<'_>) -> Result<TokenResponse, ProtocolError> {
        let access = GrantedAccess {
            scopes: ScopeSet::parse("orders.read")?,
            audiences: vec![ORDERS.into()],
        };
        let minted = self
            .0
            .access_token(AccessTokenRequest {
                client: request.client,
                subject: &request.client.client_id,
                access: &access,
                now: request.now,
                family: None,
                jti: None,
            })
            .await?;
        Ok(TokenResponse {
            access_token: minted.token,
            token_type: "Bearer",
            expires_in: minted.expires_in,
            scope: Some(access.scope_string()),
            refresh_token: None,
            id_token: None,
        })
    }
}

#[tokio::test]
async fn built_in_list_matches_what_is_registered() {
    let env = env().await;
    assert_eq!(grant_types(&env), BUILT_IN_GRANT_TYPES);
}

#[tokio::test]
async fn an_extension_grant_registers_and_is_served_like_a_built_in_one() {
    let mut env = env().await;
    let now = env.now();
    let credentials = basic(EXTENSION.id, SECRET);
    let request = format!("grant_type={EXTENSION_GRANT_TYPE}");
    let unknown = token_request(&env, Some(&credentials), None, &request, now)
        .await
        .unwrap_err();
    assert_eq!(unknown.error.code, ErrorCode::UnsupportedGrantType);

    let stamp = Arc::new(Stamp(minter(&env)));
    register_grant(&mut env, stamp).unwrap();
    assert!(grant_types(&env).iter().any(|t| t == EXTENSION_GRANT_TYPE));
    let issued = token_request(&env, Some(&credentials), None, &request, now)
        .await
        .unwrap();
    assert_eq!(issued.grant_type, EXTENSION_GRANT_TYPE);
    assert_eq!(issued.client_id, EXTENSION.id);
    let introspection = format!("token={}", issued.response.access_token);
    let answer = introspect_request(&env, Some(&basic(ORDERS, SECRET)), &introspection, now)
        .await
        .unwrap();
    assert!(answer.response.active, "the extension's token is live");
    assert_eq!(answer.response.sub.as_deref(), Some(EXTENSION.id));

    // The registry still checks the client: another client may not use it.
    let machine = basic(MACHINE.id, SECRET);
    let refused = token_request(&env, Some(&machine), None, &request, now)
        .await
        .unwrap_err();
    assert_eq!(refused.error.code, ErrorCode::UnauthorizedClient);
}

#[tokio::test]
async fn a_grant_type_cannot_be_registered_twice() {
    let mut env = env().await;
    let minter = minter(&env);
    let again = register_grant(
        &mut env,
        Arc::new(ClientCredentials::new(Arc::clone(&minter))),
    );
    assert!(again.is_err(), "client_credentials is built in");
    assert!(register_grant(&mut env, Arc::new(Stamp(Arc::clone(&minter)))).is_ok());
    assert!(register_grant(&mut env, Arc::new(Stamp(minter))).is_err());
    assert_eq!(grant_types(&env).len(), 4);
}
