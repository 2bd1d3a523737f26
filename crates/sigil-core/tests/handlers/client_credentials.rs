//! `client_credentials` (RFC 6749 §4.4, RFC 8707, RFC 9068): which scopes and audiences a
//! client gets, what it is refused, and the two access token formats.

use crate::support::{
    self, BILLING, BILLING_ONLY, ISSUER, MACHINE, MACHINE_REF, ORDERS, SPA, TestClient,
    assert_error, client_credentials, introspect, introspect_as_api,
};

#[tokio::test]
async fn without_a_scope_the_client_gets_every_api_scope_it_has_and_their_apis() {
    // (MACHINE may also ask for `openid`: identity scopes are left out of the defaults.)
    let env = support::env().await;
    let token = client_credentials(&env, MACHINE, &[])
        .await
        .expect("a token");
    assert_eq!(
        token.scope.as_deref(),
        Some("orders.read orders.write billing.read")
    );
    assert_eq!(token.refresh_token, None);
    assert_eq!(token.id_token, None);
    let claims = support::jwt_claims(&token.access_token);
    assert_eq!(claims["aud"], serde_json::json!([ORDERS, BILLING]));
    assert_eq!(claims["sub"], MACHINE.id);
}

#[tokio::test]
async fn a_resource_or_a_scope_narrows_the_token() {
    let env = support::env().await;
    let by_resource = client_credentials(&env, MACHINE, &[("resource", BILLING)])
        .await
        .expect("a token for billing");
    assert_eq!(by_resource.scope.as_deref(), Some("billing.read"));
    assert_eq!(
        support::jwt_claims(&by_resource.access_token)["aud"],
        BILLING
    );

    let by_scope = client_credentials(&env, MACHINE, &[("scope", "orders.read")])
        .await
        .expect("a token for orders.read");
    assert_eq!(by_scope.scope.as_deref(), Some("orders.read"));
    assert_eq!(support::jwt_claims(&by_scope.access_token)["aud"], ORDERS);

    // The resource parameter may repeat (RFC 8707 §2).
    let both = client_credentials(
        &env,
        MACHINE,
        &[
            ("scope", "orders.read billing.read"),
            ("resource", ORDERS),
            ("resource", BILLING),
        ],
    )
    .await
    .expect("a token for both");
    assert_eq!(
        support::jwt_claims(&both.access_token)["aud"],
        serde_json::json!([ORDERS, BILLING])
    );
}

/// A refused request: why, by whom, with which extra parameters.
type Refused = (
    &'static str,
    TestClient,
    &'static [(&'static str, &'static str)],
);

#[tokio::test]
async fn scopes_beyond_the_clients_are_invalid_scope() {
    let env = support::env().await;
    let cases: [Refused; 6] = [
        ("an unknown scope", MACHINE, &[("scope", "admin")]),
        (
            "an unknown scope among known ones",
            MACHINE,
            &[("scope", "orders.read admin")],
        ),
        (
            "a scope of another API than the resource",
            MACHINE,
            &[("scope", "billing.read"), ("resource", ORDERS)],
        ),
        (
            "an identity scope: there is no user",
            MACHINE,
            &[("scope", "openid orders.read")],
        ),
        (
            "a scope another client has",
            BILLING_ONLY,
            &[("scope", "orders.read")],
        ),
        ("a malformed scope", MACHINE, &[("scope", "orders\"read")]),
    ];
    for (case, client, extra) in cases {
        assert_error(
            client_credentials(&env, client, extra).await,
            "invalid_scope",
            case,
        );
    }
}

#[tokio::test]
async fn resources_beyond_the_clients_are_invalid_target() {
    let env = support::env().await;
    let cases: [(&str, TestClient, &str); 4] = [
        ("an unknown API", MACHINE, "https://unknown.test"),
        ("not an absolute URI", MACHINE, "not-a-uri"),
        ("a fragment", MACHINE, "https://orders.test#x"),
        ("an API the client has no scope of", BILLING_ONLY, ORDERS),
    ];
    for (case, client, resource) in cases {
        assert_error(
            client_credentials(&env, client, &[("resource", resource)]).await,
            "invalid_target",
            case,
        );
    }
}

#[tokio::test]
async fn a_public_client_cannot_use_client_credentials_even_if_registered_for_it() {
    let env = support::env_with(|client| {
        if client.client_id == SPA.id {
            client.grant_types.push("client_credentials".to_owned());
        }
    })
    .await;
    assert_error(
        client_credentials(&env, SPA, &[]).await,
        "unauthorized_client",
        "a public client",
    );
}

#[tokio::test]
async fn a_reference_client_gets_an_opaque_handle_its_api_introspects() {
    let env = support::env().await;
    let token = client_credentials(&env, MACHINE_REF, &[])
        .await
        .expect("a token");
    assert_eq!(token.access_token.len(), 43, "a 256-bit handle, base64url");
    assert!(!token.access_token.contains('.'), "not a JWT");
    assert_eq!(token.expires_in, 300);

    let seen = introspect_as_api(&env, ORDERS, &token.access_token).await;
    assert!(seen.active, "{seen:?}");
    assert_eq!(seen.client_id.as_deref(), Some(MACHINE_REF.id));
    assert_eq!(seen.sub.as_deref(), Some(MACHINE_REF.id));
    assert_eq!(seen.scope.as_deref(), Some("orders.read"));
    assert_eq!(seen.iss.as_deref(), Some(ISSUER));
    assert_eq!(seen.token_type, Some("Bearer"));
    let (exp, iat) = (seen.exp.expect("exp"), seen.iat.expect("iat"));
    assert_eq!(exp - iat, 300);
    // Another client learns nothing about it.
    assert!(!introspect(&env, MACHINE, &token.access_token).await.active);
}

#[tokio::test]
async fn a_jwt_client_gets_an_rfc_9068_token() {
    let env = support::env().await;
    let token = client_credentials(&env, MACHINE, &[("scope", "orders.read")])
        .await
        .expect("a token");
    assert_eq!(token.access_token.split('.').count(), 3, "a JWS");
    let claims = support::jwt_claims(&token.access_token);
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["client_id"], MACHINE.id);
    assert_eq!(claims["scope"], "orders.read");
    assert_eq!(
        claims["exp"]
            .as_u64()
            .zip(claims["iat"].as_u64())
            .map(|(e, i)| e - i),
        Some(300)
    );
    assert!(
        introspect_as_api(&env, ORDERS, &token.access_token)
            .await
            .active
    );
    // An API it is not for sees nothing.
    assert!(
        !introspect(&env, BILLING_ONLY, &token.access_token)
            .await
            .active
    );
}
