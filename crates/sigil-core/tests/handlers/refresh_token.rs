//! `refresh_token` (RFC 6749 §6, RFC 9700 §4.14.2): rotation, the grace period, reuse
//! detection, scope narrowing, sliding and absolute lifetimes, the client, and when a
//! sign-in gets a refresh token at all.

use crate::support::{
    self, ALICE, ALWAYS, NO_REFRESH, PORTAL, SPA, WEB, assert_error, assert_invalid_grant, code,
    is_active, redeem_ok, refresh, refresh_at, refresh_token, rotated,
};
use std::time::Duration;

#[tokio::test]
async fn a_refresh_rotates_the_token_and_spends_the_old_one() {
    let env = support::env().await;
    let signed_in = support::signed_in_tokens(&env, WEB).await;
    let first = signed_in.refresh_token.clone().expect("a refresh token");

    let refreshed = refresh(&env, WEB, &first, None).await.expect("a refresh");
    let successor = refreshed.refresh_token.clone().expect("a successor");
    assert_ne!(successor, first, "rotation");
    assert_ne!(refreshed.access_token, signed_in.access_token);
    assert_eq!(refreshed.scope.as_deref(), Some(support::SIGN_IN_SCOPES));
    assert_eq!(
        support::jwt_claims(&refreshed.access_token)["sub"],
        ALICE.subject
    );
    let id_token = refreshed
        .id_token
        .as_deref()
        .expect("an id_token with openid");
    assert_eq!(support::jwt_claims(id_token)["sub"], ALICE.subject);

    // The rotated-out token is spent; its successor is the live one, and rotates in turn.
    assert!(!is_active(&env, WEB, &first).await);
    assert!(is_active(&env, WEB, &successor).await);
    let third = rotated(&env, WEB, &successor).await;
    assert_ne!(third, successor);
}

#[tokio::test]
async fn within_the_grace_period_the_same_successor_comes_back() {
    let env = support::env_with(|client| {
        client.sign_in.refresh.grace_period = Duration::from_secs(600);
    })
    .await;
    let first = refresh_token(&env, WEB).await;

    // Two tabs refresh at once with the same token: one successor.
    let (one, two) = tokio::join!(
        refresh(&env, WEB, &first, None),
        refresh(&env, WEB, &first, None)
    );
    let successor = one.expect("first tab").refresh_token.expect("a successor");
    assert_eq!(
        two.expect("second tab").refresh_token,
        Some(successor.clone())
    );
    assert_ne!(successor, first);
    // Later, still within the grace period: that successor again.
    assert_eq!(rotated(&env, WEB, &first).await, successor);
    // The family lives on: the successor rotates normally.
    let latest = rotated(&env, WEB, &successor).await;
    assert!(is_active(&env, WEB, &latest).await);
}

#[tokio::test]
async fn reuse_after_the_grace_period_revokes_the_family() {
    let env = support::env_with(|client| {
        client.sign_in.refresh.grace_period = Duration::from_secs(1);
    })
    .await;
    let first = refresh_token(&env, WEB).await;
    let successor = rotated(&env, WEB, &first).await;
    support::wait_past(1).await;

    assert_invalid_grant(
        refresh(&env, WEB, &first, None).await,
        "a rotated-out token after the grace period",
    );
    assert_invalid_grant(
        refresh(&env, WEB, &successor, None).await,
        "the successor of a reused token",
    );
    assert!(!is_active(&env, WEB, &successor).await);
}

#[tokio::test]
async fn without_a_grace_period_any_reuse_revokes_the_family_and_its_reference_tokens() {
    let env = support::env_with(|client| {
        client.sign_in.refresh.grace_period = Duration::ZERO;
    })
    .await;
    let first = refresh_token(&env, PORTAL).await;
    let refreshed = refresh(&env, PORTAL, &first, None)
        .await
        .expect("a refresh");
    let successor = refreshed.refresh_token.expect("a successor");
    assert!(is_active(&env, PORTAL, &refreshed.access_token).await);

    assert_invalid_grant(refresh(&env, PORTAL, &first, None).await, "reuse, no grace");
    assert_invalid_grant(
        refresh(&env, PORTAL, &successor, None).await,
        "the successor of a reused token",
    );
    assert!(
        !is_active(&env, PORTAL, &refreshed.access_token).await,
        "a reference access token of a revoked family is active"
    );
}

#[tokio::test]
async fn the_scope_may_be_narrowed_never_widened() {
    let env = support::env().await;
    let code = code(&env, WEB, "openid offline_access orders.read").await;
    let first = redeem_ok(&env, &code)
        .await
        .refresh_token
        .expect("a refresh token");

    let narrowed = refresh(&env, WEB, &first, Some("openid orders.read"))
        .await
        .expect("narrowing");
    assert_eq!(narrowed.scope.as_deref(), Some("openid orders.read"));
    assert_eq!(
        support::jwt_claims(&narrowed.access_token)["scope"],
        "openid orders.read"
    );
    let successor = narrowed.refresh_token.expect("a successor");

    // Wider than granted: a scope the client has but this sign-in did not grant, a scope the
    // client does not have, an unknown scope.
    for wider in ["openid profile", "openid orders.write", "openid admin"] {
        assert_error(
            refresh(&env, WEB, &successor, Some(wider)).await,
            "invalid_scope",
            wider,
        );
    }
    // The refusals spent nothing, and the successor keeps the family's whole grant
    // (RFC 6749 §6: a new refresh token has the scope of the one presented).
    let again = refresh(&env, WEB, &successor, None)
        .await
        .expect("a refresh");
    assert_eq!(
        again.scope.as_deref(),
        Some("openid offline_access orders.read")
    );
}

#[tokio::test]
async fn a_malformed_scope_is_refused_and_spends_nothing() {
    let env = support::env().await;
    let token = refresh_token(&env, WEB).await;
    // (An empty `scope` is no scope at all, RFC 6749 §3.1: the whole grant.)
    for malformed in ["   ", "openid \"orders.read\"", "openid orders\\read"] {
        assert_error(
            refresh(&env, WEB, &token, Some(malformed)).await,
            "invalid_scope",
            &format!("scope {malformed:?}"),
        );
    }
    rotated(&env, WEB, &token).await;
}

#[tokio::test]
async fn a_refresh_token_works_only_for_its_own_client() {
    let env = support::env().await;
    let token = refresh_token(&env, WEB).await;
    for thief in [PORTAL, SPA] {
        assert_invalid_grant(
            refresh(&env, thief, &token, None).await,
            &format!("{} presenting web's refresh token", thief.id),
        );
    }
    // Nothing changed: it still works for web.
    rotated(&env, WEB, &token).await;
}

#[tokio::test]
async fn a_family_ends_at_its_absolute_expiry_by_the_core_clock() {
    let env = support::env().await;
    let token = refresh_token(&env, WEB).await;
    // The default absolute lifetime is 30 days from sign-in; the stored token's own expiry is
    // the store's business and its clock is not there yet.
    let absolute = 30 * 24 * 3600;
    assert_invalid_grant(
        refresh_at(&env, WEB, &token, None, env.later(absolute + 1)).await,
        "past the family's absolute end",
    );
    // Nothing was spent by the refusal; just before the end the token still rotates.
    let before_the_end = refresh_at(&env, WEB, &token, None, env.later(absolute - 60)).await;
    assert!(before_the_end.is_ok(), "{before_the_end:?}");
}

#[tokio::test]
async fn a_family_in_use_still_ends_at_its_absolute_lifetime() {
    let env = support::env_with(|client| {
        client.sign_in.refresh.absolute_lifetime = Duration::from_secs(3);
    })
    .await;
    let token = refresh_token(&env, WEB).await;
    // Rotating keeps the family going (the sliding lifetime is long)...
    let successor = rotated(&env, WEB, &token).await;
    // ...but not past sign-in plus the absolute lifetime.
    support::wait_past(3).await;
    assert_invalid_grant(
        refresh(&env, WEB, &successor, None).await,
        "past the absolute lifetime",
    );
}

#[tokio::test]
async fn an_unused_refresh_token_expires_after_its_sliding_lifetime() {
    let env = support::env_with(|client| {
        client.sign_in.refresh.sliding_lifetime = Duration::from_secs(1);
    })
    .await;
    let token = refresh_token(&env, WEB).await;
    support::wait_past(1).await;
    assert_invalid_grant(
        refresh(&env, WEB, &token, None).await,
        "past the sliding lifetime",
    );
}

#[tokio::test]
async fn offline_access_decides_whether_a_sign_in_gets_a_refresh_token() {
    let env = support::env().await;
    let cases = [
        (WEB, "openid profile", false),
        (WEB, "openid offline_access", true),
        // The client's policy: refresh tokens on every sign-in.
        (ALWAYS, "openid profile", true),
        // A client that may not use the refresh_token grant gets none, whatever it asks.
        (NO_REFRESH, "openid offline_access", false),
    ];
    for (client, scope, expected) in cases {
        let code = code(&env, client, scope).await;
        let tokens = redeem_ok(&env, &code).await;
        assert_eq!(
            tokens.refresh_token.is_some(),
            expected,
            "{} asking for {scope}",
            client.id
        );
    }
}

#[tokio::test]
async fn a_refresh_token_in_use_slides_past_its_first_sliding_lifetime() {
    let env = support::env_with(|client| {
        client.sign_in.refresh.sliding_lifetime = Duration::from_secs(6);
    })
    .await;
    // Two sign-ins at once: one family is used half-way through the sliding lifetime, the
    // other is left alone to show when that lifetime is over.
    let used = refresh_token(&env, WEB).await;
    let unused = refresh_token(&env, WEB).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let successor = rotated(&env, WEB, &used).await;
    // Wait (by the store's clock) until the unused token has expired...
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while is_active(&env, WEB, &unused).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "an unused refresh token outlived its 6 s sliding lifetime by a minute"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // ...the successor, issued 3 s later, lives on (whole seconds leave it 2 s at least).
    rotated(&env, WEB, &successor).await;
}

#[tokio::test]
async fn an_access_token_an_id_token_or_a_code_is_not_a_refresh_token() {
    let env = support::env().await;
    let tokens = support::signed_in_tokens(&env, WEB).await;
    let id_token = tokens.id_token.clone().expect("an id_token");
    let unredeemed = code(&env, WEB, "openid").await;
    for (case, presented) in [
        ("access token", tokens.access_token.as_str()),
        ("id_token", id_token.as_str()),
        ("code", unredeemed.code.as_str()),
    ] {
        assert_invalid_grant(
            refresh(&env, WEB, presented, None).await,
            &format!("{case} as refresh token"),
        );
    }
    // None of that harmed anything: the code redeems, the refresh token rotates.
    redeem_ok(&env, &unredeemed).await;
    rotated(&env, WEB, &tokens.refresh_token.expect("a refresh token")).await;
}
