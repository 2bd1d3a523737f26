//! Reference tokens through introspection (RFC 7662) and revocation (RFC 7009); JWT
//! revocation as introspection sees it.

use sigil_e2e::{API_SECRET, CLIENT_SECRET, ORDERS_API, config, introspect, issue_token};
use sigil_testkit::SigilDev;
use sigil_testkit::client::{Answer, basic, form, post_form};

async fn revoke(sigil: &SigilDev, client: &str, token: &str) -> Answer {
    post_form(
        &sigil.url("/connect/revocation"),
        Some(&basic(client, CLIENT_SECRET)),
        &form(&[("token", token), ("token_type_hint", "access_token")]),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn reference_token_round_trip() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    let token = issue_token(&sigil, "ref-client").await;
    assert_eq!(token.len(), 43, "a 256-bit handle, base64url");
    assert!(!token.contains('.'), "not a JWT");

    let seen = introspect(&sigil, ORDERS_API, &token).await;
    assert_eq!(seen.status, 200);
    assert_eq!(seen.cache_control.as_deref(), Some("no-store"));
    let body = &seen.body;
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], "ref-client");
    assert_eq!(body["sub"], "ref-client");
    assert_eq!(body["scope"], "orders.read");
    assert_eq!(body["aud"], "https://orders.test");
    assert_eq!(body["iss"], sigil.base_url.as_str());
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        body["exp"].as_u64().unwrap() - body["iat"].as_u64().unwrap(),
        300
    );

    // The issuing client may introspect its own token; another client and another API see nothing.
    assert_eq!(
        introspect(&sigil, ("ref-client", CLIENT_SECRET), &token)
            .await
            .body["active"],
        true
    );
    let other = introspect(&sigil, ("other-client", CLIENT_SECRET), &token).await;
    assert_eq!(other.body, serde_json::json!({ "active": false }));

    // Revocation by someone else is refused and changes nothing.
    let refused = revoke(&sigil, "other-client", &token).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["error"], "unauthorized_client");
    assert_eq!(
        introspect(&sigil, ORDERS_API, &token).await.body["active"],
        true
    );

    // Revocation by the owner takes effect at once.
    let revoked = revoke(&sigil, "ref-client", &token).await;
    assert_eq!(revoked.status, 200);
    assert_eq!(
        introspect(&sigil, ORDERS_API, &token).await.body,
        serde_json::json!({ "active": false })
    );
    // Revoking again, or revoking garbage, is still 200 (RFC 7009 §2.2).
    assert_eq!(revoke(&sigil, "ref-client", &token).await.status, 200);
    assert_eq!(
        revoke(&sigil, "ref-client", "not-a-token").await.status,
        200
    );

    let audit = sigil.wait_for_event("token_revoked").await.unwrap();
    assert_eq!(audit["client_id"], "ref-client");
}

#[tokio::test]
async fn revoked_jwt_is_inactive_at_introspection() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    let token = issue_token(&sigil, "jwt-client").await;
    assert_eq!(
        introspect(&sigil, ORDERS_API, &token).await.body["active"],
        true
    );
    assert_eq!(revoke(&sigil, "jwt-client", &token).await.status, 200);
    assert_eq!(
        introspect(&sigil, ORDERS_API, &token).await.body["active"],
        false
    );
}

#[tokio::test]
async fn introspection_callers_must_authenticate() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    let token = issue_token(&sigil, "ref-client").await;
    let wrong = introspect(&sigil, ("https://orders.test", "wrong"), &token).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body["error"], "invalid_client");
    let anonymous = post_form(
        &sigil.url("/connect/introspect"),
        None,
        &form(&[("token", &token)]),
    )
    .await
    .unwrap();
    assert_eq!(anonymous.status, 401);
    // An API without an introspection secret cannot introspect.
    let billing = introspect(&sigil, ("https://billing.test", API_SECRET), &token).await;
    assert_eq!(billing.status, 401);
    let missing = post_form(
        &sigil.url("/connect/introspect"),
        Some(&basic(ORDERS_API.0, API_SECRET)),
        "",
    )
    .await
    .unwrap();
    assert_eq!(missing.status, 400);
    assert_eq!(missing.body["error"], "invalid_request");
}
