//! Protocol-level tests of the endpoints, against the test doubles.

use crate::error::ErrorCode;
use crate::parameters::Parameters;
use crate::store::GrantStore as _;
use crate::testing::{NOW, SECRET, basic, services};
use crate::time::Timestamp;

/// A client-credentials token for `client`, which must succeed.
async fn issue(
    services: &crate::endpoint::Services,
    client: &str,
) -> crate::endpoint::TokenSuccess {
    services
        .tokens
        .token(
            Some(&basic(client, SECRET)),
            None,
            &form("grant_type=client_credentials"),
            NOW,
        )
        .await
        .unwrap()
}

fn form(body: &str) -> Parameters {
    Parameters::parse(body.as_bytes(), &["resource"]).unwrap()
}

#[tokio::test]
async fn client_credentials_issues_a_token_the_client_can_introspect() {
    let (_, services) = services();
    let issued = issue(&services, "jwt-app").await;
    assert_eq!(issued.response.scope.as_deref(), Some("orders.read"));
    let body = format!("token={}", issued.response.access_token);
    let answer = services
        .inspector
        .introspect(Some(&basic("jwt-app", SECRET)), &form(&body), NOW)
        .await
        .unwrap();
    assert!(answer.response.active);
    assert_eq!(answer.response.sub.as_deref(), Some("jwt-app"));
}

#[tokio::test]
async fn authentication_failures_are_invalid_client_with_a_reason() {
    let (_, services) = services();
    let cases = [
        (
            Some(basic("jwt-app", "wrong")),
            "grant_type=client_credentials",
        ),
        (
            Some(basic("nobody", SECRET)),
            "grant_type=client_credentials",
        ),
        (
            None,
            "grant_type=client_credentials&client_id=jwt-app&client_secret=s3cret",
        ),
    ];
    for (header, body) in cases {
        let failure = services
            .tokens
            .token(header.as_deref(), None, &form(body), NOW)
            .await
            .unwrap_err();
        assert_eq!(failure.error.code, ErrorCode::InvalidClient, "{body}");
        assert!(failure.auth_failure.is_some());
    }
    let failure = services
        .tokens
        .token(None, None, &form("grant_type=client_credentials"), NOW)
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::InvalidClient);
}

#[tokio::test]
async fn grant_type_checks() {
    let (_, services) = services();
    let failure = services
        .tokens
        .token(
            Some(&basic("jwt-app", SECRET)),
            None,
            &form("grant_type=password"),
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::UnsupportedGrantType);
    let failure = services
        .tokens
        .token(
            Some(&basic("no-grants", SECRET)),
            None,
            &form("grant_type=client_credentials"),
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::UnauthorizedClient);
    let failure = services
        .tokens
        .token(Some(&basic("jwt-app", SECRET)), None, &form(""), NOW)
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::InvalidRequest);
}

#[tokio::test]
async fn reference_tokens_are_visible_to_their_api_and_client_only() {
    let (_, services) = services();
    let issued = issue(&services, "ref-app").await;
    assert_eq!(issued.response.access_token.len(), 43);
    let body = format!("token={}", issued.response.access_token);
    let by_api = services
        .inspector
        .introspect(Some(&basic("https://orders", SECRET)), &form(&body), NOW)
        .await
        .unwrap();
    assert!(by_api.response.active);
    assert_eq!(by_api.caller, "https://orders");
    let by_other = services
        .inspector
        .introspect(Some(&basic("other-app", SECRET)), &form(&body), NOW)
        .await
        .unwrap();
    assert!(!by_other.response.active);
    assert!(
        by_other.response.client_id.is_none(),
        "inactive answers reveal nothing"
    );
    let expired = Timestamp(NOW.as_secs() + 301);
    let later = services
        .inspector
        .introspect(Some(&basic("ref-app", SECRET)), &form(&body), expired)
        .await
        .unwrap();
    assert!(!later.response.active);
}

#[tokio::test]
async fn revocation_is_immediate_and_limited_to_the_owner() {
    let (_, services) = services();
    for client in ["ref-app", "jwt-app"] {
        let issued = issue(&services, client).await;
        let body = format!("token={}", issued.response.access_token);
        let failure = services
            .inspector
            .revoke(Some(&basic("other-app", SECRET)), None, &form(&body), NOW)
            .await
            .unwrap_err();
        assert_eq!(failure.error.code, ErrorCode::UnauthorizedClient);
        let still = services
            .inspector
            .introspect(Some(&basic(client, SECRET)), &form(&body), NOW)
            .await
            .unwrap();
        assert!(
            still.response.active,
            "a refused revocation changes nothing"
        );

        let outcome = services
            .inspector
            .revoke(Some(&basic(client, SECRET)), None, &form(&body), NOW)
            .await
            .unwrap();
        assert!(outcome.revoked);
        let after = services
            .inspector
            .introspect(Some(&basic(client, SECRET)), &form(&body), NOW)
            .await
            .unwrap();
        assert!(
            !after.response.active,
            "{client}: revoked token must be inactive"
        );
    }
}

#[tokio::test]
async fn unknown_and_tampered_tokens_are_inactive_and_revoke_quietly() {
    let (_, services) = services();
    let issued = issue(&services, "jwt-app").await;
    let mut tampered = issued.response.access_token.clone();
    tampered.push('x');
    for token in ["nonsense", "a.b.c", tampered.as_str()] {
        let body = format!("token={token}");
        let answer = services
            .inspector
            .introspect(Some(&basic("jwt-app", SECRET)), &form(&body), NOW)
            .await
            .unwrap();
        assert!(!answer.response.active, "{token}");
        let outcome = services
            .inspector
            .revoke(Some(&basic("jwt-app", SECRET)), None, &form(&body), NOW)
            .await
            .unwrap();
        assert!(!outcome.revoked);
    }
}

#[tokio::test]
async fn public_clients_cannot_introspect() {
    let (_, services) = services();
    let issued = issue(&services, "jwt-app").await;
    let token = &issued.response.access_token;
    // RFC 7662 §2.1: a client_id alone proves nothing, so it must not buy token scanning.
    for body in [
        format!("token={token}&client_id=spa"),
        format!("token={token}&client_id=jwt-app"),
        format!("token={token}"),
    ] {
        let failure = services
            .inspector
            .introspect(None, &form(&body), NOW)
            .await
            .unwrap_err();
        assert_eq!(failure.error.code, ErrorCode::InvalidClient, "{body}");
    }
}

/// Alice's refresh token `handle` for `web` as a code redemption files it; its family ends
/// `absolute_end` seconds after [`NOW`].
fn refresh_grant(handle: &str, absolute_end: u64) -> crate::store::Grant {
    crate::repository::test_refresh_grant(
        handle,
        "web",
        "alice-id",
        &["openid", "orders.read"],
        NOW,
        Timestamp(NOW.as_secs() + 3600),
        Timestamp(NOW.as_secs() + absolute_end),
    )
}

#[tokio::test]
async fn a_client_may_introspect_its_own_live_refresh_token() {
    let (store, services) = services();
    store
        .put(refresh_grant("refresh-handle", 1800))
        .await
        .unwrap();
    let body = form("token=refresh-handle&token_type_hint=refresh_token");
    let own = services
        .inspector
        .introspect(Some(&basic("web", SECRET)), &body, NOW)
        .await
        .unwrap()
        .response;
    assert!(own.active);
    assert_eq!(own.client_id.as_deref(), Some("web"));
    assert_eq!(own.sub.as_deref(), Some("alice-id"));
    assert_eq!(own.scope.as_deref(), Some("openid orders.read"));
    assert_eq!(own.iat, Some(NOW.as_secs()));
    assert_eq!(
        own.exp,
        Some(NOW.as_secs() + 1800),
        "the family's end comes first"
    );
    assert_eq!(own.token_type, None, "`Bearer` types access tokens only");

    // Nobody else sees it: not another client, not an API (refresh tokens never go to APIs).
    for caller in ["other-app", "https://orders"] {
        let seen = services
            .inspector
            .introspect(Some(&basic(caller, SECRET)), &body, NOW)
            .await
            .unwrap()
            .response;
        assert!(!seen.active, "{caller} saw web's refresh token");
    }
    // Past the family's end it is inactive, whatever its own expiry says.
    let later = Timestamp(NOW.as_secs() + 1800);
    let ended = services
        .inspector
        .introspect(Some(&basic("web", SECRET)), &body, later)
        .await
        .unwrap();
    assert!(!ended.response.active);
}

#[tokio::test]
async fn a_rotated_out_refresh_token_is_inactive_and_not_a_bearer_token() {
    let (store, services) = services();
    let mut rotated = refresh_grant("rotated-handle", 1800);
    rotated.consumed_at = Some(NOW);
    store.put(rotated).await.unwrap();
    let answer = services
        .inspector
        .introspect(
            Some(&basic("web", SECRET)),
            &form("token=rotated-handle"),
            NOW,
        )
        .await
        .unwrap();
    assert!(
        !answer.response.active,
        "a spent refresh token is not active"
    );

    store.put(refresh_grant("live-handle", 1800)).await.unwrap();
    let failure = services
        .inspector
        .userinfo("live-handle", NOW)
        .await
        .unwrap_err();
    assert_eq!(
        failure.code,
        ErrorCode::InvalidToken,
        "a refresh token is no access token"
    );
}

/// A JWT access token for `jwt-app`, signed by the test signer, with `extra` claims added.
async fn signed_access_token(extra: serde_json::Value) -> String {
    use crate::signing::TokenSigner as _;
    let mut claims = serde_json::json!({
        "iss": "https://sigil.test",
        "exp": NOW.as_secs() + 300,
        "aud": "https://orders",
        "sub": "alice-id",
        "client_id": "jwt-app",
        "iat": NOW.as_secs(),
        "jti": "jti-1",
        "scope": "openid orders.read",
    });
    if let (Some(claims), serde_json::Value::Object(extra)) = (claims.as_object_mut(), extra) {
        claims.extend(extra);
    }
    crate::testing::DigestSigner
        .sign("at+jwt", claims.to_string().as_bytes())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_access_token_is_not_valid_before_its_nbf() {
    let (_, services) = services();
    let cases = [
        (serde_json::json!({}), true),
        (serde_json::json!({ "nbf": NOW.as_secs() }), true),
        (serde_json::json!({ "nbf": NOW.as_secs() + 1 }), false),
        (serde_json::json!({ "nbf": NOW.as_secs() + 3600 }), false),
        (serde_json::json!({ "nbf": "soon" }), false),
    ];
    for (extra, valid) in cases {
        let token = signed_access_token(extra.clone()).await;
        let body = form(&format!("token={token}"));
        let seen = services
            .inspector
            .introspect(Some(&basic("https://orders", SECRET)), &body, NOW)
            .await
            .unwrap();
        assert_eq!(seen.response.active, valid, "introspection, {extra}");
        let info = services.inspector.userinfo(&token, NOW).await;
        assert_eq!(info.is_ok(), valid, "userinfo, {extra}: {info:?}");
    }
}

#[tokio::test]
async fn another_clients_refresh_token_is_not_revoked_and_the_request_is_refused() {
    let (store, services) = services();
    store.put(refresh_grant("web-refresh", 1800)).await.unwrap();
    let body = form("token=web-refresh&token_type_hint=refresh_token");
    let failure = services
        .inspector
        .revoke(Some(&basic("other-app", SECRET)), None, &body, NOW)
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::UnauthorizedClient);
    let still = services
        .inspector
        .introspect(Some(&basic("web", SECRET)), &body, NOW)
        .await
        .unwrap();
    assert!(
        still.response.active,
        "a refused revocation changes nothing"
    );
}
