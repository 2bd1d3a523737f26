//! `authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 9700 §2.1.1, §4.5): PKCE, the
//! redirect URI, the client, expiry, replay and racing redemptions.

use crate::support::{
    self, ALICE, BOB, Code, LEGACY, PORTAL, Pkce, SPA, TestClient, WEB, WEB_OTHER_REDIRECT,
    assert_invalid_grant, code, is_active, redeem, redeem_as, redeem_ok, refresh, sign_in,
};

#[tokio::test]
async fn a_code_with_its_s256_verifier_buys_tokens_for_the_signed_in_user() {
    let env = support::env().await;
    let code = sign_in(
        &env,
        WEB,
        &BOB,
        "openid offline_access orders.read",
        Some(Pkce::s256()),
        WEB.redirect_uri,
    )
    .await;
    let tokens = redeem_ok(&env, &code).await;
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(
        tokens.scope.as_deref(),
        Some("openid offline_access orders.read")
    );
    let claims = support::jwt_claims(&tokens.access_token);
    assert_eq!(claims["sub"], BOB.subject);
    assert_eq!(claims["client_id"], WEB.id);
    assert_eq!(claims["aud"], support::ORDERS);
    let id_token = support::jwt_claims(tokens.id_token.as_deref().expect("an id_token"));
    assert_eq!(id_token["sub"], BOB.subject);
    assert_eq!(id_token["aud"], WEB.id);
    let refresh_token = tokens.refresh_token.as_deref().expect("a refresh token");
    assert!(is_active(&env, WEB, &tokens.access_token).await);
    assert!(is_active(&env, WEB, refresh_token).await);
}

#[tokio::test]
async fn a_public_client_redeems_with_its_client_id_and_verifier() {
    let env = support::env().await;
    let code = code(&env, SPA, support::SIGN_IN_SCOPES).await;
    let tokens = redeem_ok(&env, &code).await;
    let claims = support::jwt_claims(&tokens.access_token);
    assert_eq!(claims["sub"], ALICE.subject);
    assert_eq!(claims["client_id"], SPA.id);
    assert!(tokens.refresh_token.is_some());
}

#[tokio::test]
async fn a_wrong_verifier_is_refused_and_burns_the_code() {
    let env = support::env().await;
    let code = code(&env, WEB, "openid").await;
    let other = Pkce::s256();
    assert_invalid_grant(
        redeem_as(
            &env,
            WEB,
            &code.code,
            Some(&other.verifier),
            Some(WEB.redirect_uri),
        )
        .await,
        "another verifier",
    );
    // No second guess: the code is spent, even with the right verifier.
    assert_invalid_grant(
        redeem(&env, &code).await,
        "the right verifier after a wrong one",
    );
}

#[tokio::test]
async fn the_s256_challenge_is_not_its_own_verifier() {
    let env = support::env().await;
    let code = code(&env, WEB, "openid").await;
    let challenge = code.pkce.as_ref().map(|pkce| pkce.challenge.clone());
    assert_invalid_grant(
        redeem_as(
            &env,
            WEB,
            &code.code,
            challenge.as_deref(),
            Some(WEB.redirect_uri),
        )
        .await,
        "the challenge as verifier",
    );
}

#[tokio::test]
async fn a_code_issued_with_a_challenge_needs_its_verifier() {
    let env = support::env().await;
    for client in [WEB, LEGACY, SPA] {
        let code = code(&env, client, "openid").await;
        assert_invalid_grant(
            redeem_as(&env, client, &code.code, None, Some(client.redirect_uri)).await,
            &format!("{}: no code_verifier", client.id),
        );
    }
}

#[tokio::test]
async fn a_verifier_for_a_code_issued_without_a_challenge_is_a_downgrade() {
    let env = support::env().await;
    // A client that need not use PKCE redeems a code issued without a challenge...
    let plain = sign_in(&env, LEGACY, &ALICE, "openid", None, LEGACY.redirect_uri).await;
    redeem_ok(&env, &plain).await;
    // ...but a verifier for such a code is refused (RFC 9700 §2.1.1: the PKCE downgrade).
    let plain = sign_in(&env, LEGACY, &ALICE, "openid", None, LEGACY.redirect_uri).await;
    let verifier = Pkce::s256().verifier;
    assert_invalid_grant(
        redeem_as(
            &env,
            LEGACY,
            &plain.code,
            Some(&verifier),
            Some(LEGACY.redirect_uri),
        )
        .await,
        "a verifier for a code issued without a challenge",
    );
}

#[tokio::test]
async fn the_redirect_uri_must_be_the_authorization_requests_exactly() {
    let env = support::env().await;
    let cases: [(&str, Option<&str>); 5] = [
        ("absent", None),
        ("another registered redirect URI", Some(WEB_OTHER_REDIRECT)),
        ("trailing slash", Some("https://web.test/cb/")),
        ("added query", Some("https://web.test/cb?x=1")),
        ("another client's", Some(PORTAL.redirect_uri)),
    ];
    for (case, redirect_uri) in cases {
        let code = code(&env, WEB, "openid").await;
        assert_invalid_grant(
            redeem_as(&env, WEB, &code.code, code.verifier(), redirect_uri).await,
            case,
        );
    }
    // The code remembers which of the client's URIs its request named.
    let other = sign_in(
        &env,
        WEB,
        &ALICE,
        "openid",
        Some(Pkce::s256()),
        WEB_OTHER_REDIRECT,
    )
    .await;
    assert_invalid_grant(
        redeem_as(
            &env,
            WEB,
            &other.code,
            other.verifier(),
            Some(WEB.redirect_uri),
        )
        .await,
        "the client's first URI for a request that named its second",
    );
    let other = sign_in(
        &env,
        WEB,
        &ALICE,
        "openid",
        Some(Pkce::s256()),
        WEB_OTHER_REDIRECT,
    )
    .await;
    redeem_ok(&env, &other).await;
}

#[tokio::test]
async fn a_code_works_only_for_the_client_it_was_issued_to() {
    let env = support::env().await;
    for thief in [PORTAL, SPA] {
        let code = code(&env, WEB, "openid").await;
        assert_invalid_grant(
            redeem_as(
                &env,
                thief,
                &code.code,
                code.verifier(),
                Some(WEB.redirect_uri),
            )
            .await,
            &format!("{} redeeming web's code", thief.id),
        );
    }
}

#[tokio::test]
async fn a_used_code_presented_by_another_client_revokes_nothing() {
    let env = support::env().await;
    let code = code(&env, WEB, support::SIGN_IN_SCOPES).await;
    let tokens = redeem_ok(&env, &code).await;
    let refresh_token = tokens.refresh_token.expect("a refresh token");
    // Another client cannot take down web's tokens by presenting web's spent code.
    assert_invalid_grant(
        redeem_as(
            &env,
            PORTAL,
            &code.code,
            code.verifier(),
            Some(WEB.redirect_uri),
        )
        .await,
        "another client replaying the code",
    );
    assert!(is_active(&env, WEB, &tokens.access_token).await);
    assert!(is_active(&env, WEB, &refresh_token).await);
}

#[tokio::test]
async fn a_code_is_refused_once_the_core_sees_it_expired() {
    let env = support::env().await;
    let code = code(&env, WEB, "openid").await;
    // The store's clock has not reached the expiry (60 s), the request's has.
    let past_lifetime = env.later(61);
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code.code.as_str()),
        ("code_verifier", code.verifier().expect("a verifier")),
        ("redirect_uri", WEB.redirect_uri),
    ];
    assert_invalid_grant(
        support::token(&env, WEB, &pairs, past_lifetime).await,
        "a code past its lifetime by the request's clock",
    );
}

#[tokio::test]
async fn a_code_past_its_lifetime_is_gone_from_the_store() {
    let env = support::env_with(|client| {
        client.sign_in.code_lifetime = std::time::Duration::from_secs(2);
    })
    .await;
    let expired = code(&env, WEB, "openid").await;
    support::wait_past(2).await;
    assert_invalid_grant(redeem(&env, &expired).await, "a code past its lifetime");
    // A fresh one, redeemed at once (within a second at least), works.
    let fresh = code(&env, WEB, "openid").await;
    redeem_ok(&env, &fresh).await;
}

/// A second redemption fails and revokes what the first one issued.
async fn replay_revokes_what_the_first_redemption_issued(client: TestClient) {
    let env = support::env().await;
    let code = code(&env, client, support::SIGN_IN_SCOPES).await;
    let tokens = redeem_ok(&env, &code).await;
    let refresh_token = tokens.refresh_token.clone().expect("a refresh token");
    assert!(is_active(&env, client, &tokens.access_token).await);
    assert!(is_active(&env, client, &refresh_token).await);

    assert_invalid_grant(redeem(&env, &code).await, "second redemption");

    assert_invalid_grant(
        refresh(&env, client, &refresh_token, None).await,
        "the refresh token of a replayed code",
    );
    assert!(
        !is_active(&env, client, &tokens.access_token).await,
        "{}: the access token of a replayed code is active",
        client.id
    );
    assert!(
        !is_active(&env, client, &refresh_token).await,
        "{}: the refresh token of a replayed code is active",
        client.id
    );
    let at_the_api = support::introspect_as_api(&env, support::ORDERS, &tokens.access_token).await;
    assert!(!at_the_api.active, "{}: {at_the_api:?}", client.id);
}

#[tokio::test]
async fn a_replayed_code_revokes_the_jwt_access_token_and_refresh_family() {
    replay_revokes_what_the_first_redemption_issued(WEB).await;
}

#[tokio::test]
async fn a_replayed_code_revokes_the_reference_access_token_and_refresh_family() {
    replay_revokes_what_the_first_redemption_issued(PORTAL).await;
}

#[tokio::test]
async fn of_two_concurrent_redemptions_exactly_one_wins() {
    let env = support::env().await;
    for round in 0..5 {
        let code: Code = code(&env, WEB, "openid").await;
        let (one, two) = tokio::join!(redeem(&env, &code), redeem(&env, &code));
        let outcomes = [&one, &two];
        let won = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {one:?} / {two:?}");
        let lost = outcomes
            .into_iter()
            .find_map(|outcome| outcome.as_ref().err())
            .expect("one lost");
        assert_eq!(lost.code.as_str(), "invalid_grant", "round {round}");
    }
}

#[tokio::test]
async fn a_refresh_token_is_not_a_code() {
    let env = support::env().await;
    let refresh_token = support::refresh_token(&env, WEB).await;
    let verifier = Pkce::s256().verifier;
    assert_invalid_grant(
        redeem_as(
            &env,
            WEB,
            &refresh_token,
            Some(&verifier),
            Some(WEB.redirect_uri),
        )
        .await,
        "a refresh token as code",
    );
}

/// Bad input changes nothing: a refresh token sent as `code` is not consumed (were it marked
/// used, its next refresh would count as reuse and revoke its whole family).
#[tokio::test]
async fn a_refresh_token_presented_as_a_code_stays_usable() {
    let env = support::env().await;
    let refresh_token = support::refresh_token(&env, WEB).await;
    let verifier = Pkce::s256().verifier;
    let presented = redeem_as(
        &env,
        WEB,
        &refresh_token,
        Some(&verifier),
        Some(WEB.redirect_uri),
    )
    .await;
    assert_invalid_grant(presented, "a refresh token as code");
    let after = refresh(&env, WEB, &refresh_token, None).await;
    assert!(
        after.is_ok(),
        "the refresh token after being presented as a code: {after:?}"
    );
}
