//! JWT access tokens (RFC 9068), checked with an independent JWT library against the JWKS;
//! scopes and resource indicators (RFC 8707).

use sigil_e2e::{CLIENT_SECRET, config};
use sigil_testkit::SigilDev;
use sigil_testkit::client::{basic, form, get_json, post_form, verify_access_token};

async fn token(sigil: &SigilDev, body: &str) -> sigil_testkit::client::Answer {
    post_form(
        &sigil.url("/connect/token"),
        Some(&basic("jwt-client", CLIENT_SECRET)),
        body,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn jwt_claims_follow_rfc_9068_and_verify_against_the_jwks() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    let answer = token(&sigil, "grant_type=client_credentials&scope=orders.read").await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["token_type"], "Bearer");
    assert_eq!(answer.body["expires_in"], 600);
    assert_eq!(answer.body["scope"], "orders.read");
    assert!(answer.body.get("refresh_token").is_none());

    let jwks = get_json(&sigil.url("/.well-known/jwks.json"))
        .await
        .unwrap();
    let access_token = answer.body["access_token"].as_str().unwrap();
    let claims =
        verify_access_token(access_token, &jwks, &sigil.base_url, "https://orders.test").unwrap();
    assert_eq!(claims["iss"], sigil.base_url.as_str());
    assert_eq!(claims["sub"], "jwt-client");
    assert_eq!(claims["client_id"], "jwt-client");
    assert_eq!(claims["aud"], "https://orders.test");
    assert_eq!(claims["scope"], "orders.read");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        600
    );
    assert!(claims["jti"].as_str().is_some_and(|jti| jti.len() >= 22));

    // A second token has its own jti.
    let again = token(&sigil, "grant_type=client_credentials&scope=orders.read").await;
    let again = verify_access_token(
        again.body["access_token"].as_str().unwrap(),
        &jwks,
        &sigil.base_url,
        "https://orders.test",
    )
    .unwrap();
    assert_ne!(again["jti"], claims["jti"]);

    // Tampering with the payload breaks the signature.
    let mut parts: Vec<String> = access_token.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].chars().rev().collect();
    assert!(
        verify_access_token(
            &parts.join("."),
            &jwks,
            &sigil.base_url,
            "https://orders.test"
        )
        .is_err()
    );
}

#[tokio::test]
async fn every_algorithm_signs_verifiable_tokens() {
    for alg in ["RS256", "PS256", "ES256", "EdDSA"] {
        let yaml = format!(
            "signing: {{ algorithm: {alg} }}\n{}",
            config("tokens.yaml", &[])
        );
        let sigil = SigilDev::start(Some(&yaml)).await.unwrap();
        let answer = token(&sigil, "grant_type=client_credentials&scope=billing.read").await;
        assert_eq!(answer.status, 200, "{alg}: {:?}", answer.body);
        let access_token = answer.body["access_token"].as_str().unwrap();
        let header = jsonwebtoken::decode_header(access_token).unwrap();
        assert_eq!(format!("{:?}", header.alg), alg);
        let jwks = get_json(&sigil.url("/.well-known/jwks.json"))
            .await
            .unwrap();
        verify_access_token(access_token, &jwks, &sigil.base_url, "https://billing.test")
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
    }
}

#[tokio::test]
async fn scopes_and_resources_decide_the_audience() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    let jwks = get_json(&sigil.url("/.well-known/jwks.json"))
        .await
        .unwrap();
    let claims_of = |answer: &sigil_testkit::client::Answer, audience: &str| {
        verify_access_token(
            answer.body["access_token"].as_str().unwrap(),
            &jwks,
            &sigil.base_url,
            audience,
        )
        .unwrap()
    };

    // No scope: every allowed scope, every API they belong to.
    let all = token(&sigil, "grant_type=client_credentials").await;
    assert_eq!(all.body["scope"], "orders.read orders.write billing.read");
    assert_eq!(
        claims_of(&all, "https://orders.test")["aud"],
        serde_json::json!(["https://orders.test", "https://billing.test"])
    );

    // A resource narrows the token to that API and its scopes.
    let narrowed = token(
        &sigil,
        &form(&[
            ("grant_type", "client_credentials"),
            ("resource", "https://billing.test"),
        ]),
    )
    .await;
    assert_eq!(narrowed.body["scope"], "billing.read");
    assert_eq!(
        claims_of(&narrowed, "https://billing.test")["aud"],
        "https://billing.test"
    );

    // Two resources (the parameter may repeat, RFC 8707 §2).
    let both = token(
        &sigil,
        &form(&[
            ("grant_type", "client_credentials"),
            ("scope", "orders.read billing.read"),
            ("resource", "https://orders.test"),
            ("resource", "https://billing.test"),
        ]),
    )
    .await;
    assert_eq!(both.status, 200, "{:?}", both.body);
}

#[tokio::test]
async fn scope_and_target_errors() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    let cases = [
        (
            form(&[("grant_type", "client_credentials"), ("scope", "admin")]),
            "invalid_scope",
        ),
        (
            form(&[
                ("grant_type", "client_credentials"),
                ("scope", "orders.read admin"),
            ]),
            "invalid_scope",
        ),
        (
            form(&[
                ("grant_type", "client_credentials"),
                ("scope", "billing.read"),
                ("resource", "https://orders.test"),
            ]),
            "invalid_scope",
        ),
        (
            form(&[
                ("grant_type", "client_credentials"),
                ("resource", "https://unknown.test"),
            ]),
            "invalid_target",
        ),
        (
            form(&[
                ("grant_type", "client_credentials"),
                ("resource", "not-a-uri"),
            ]),
            "invalid_target",
        ),
        (
            form(&[
                ("grant_type", "client_credentials"),
                ("resource", "https://orders.test#x"),
            ]),
            "invalid_target",
        ),
        (
            form(&[("grant_type", "password")]),
            "unsupported_grant_type",
        ),
        (form(&[("scope", "orders.read")]), "invalid_request"),
    ];
    for (body, error) in cases {
        let answer = token(&sigil, &body).await;
        assert_eq!(answer.status, 400, "{body}: {:?}", answer.body);
        assert_eq!(answer.body["error"], error, "{body}");
        assert!(answer.body["error_description"].is_string());
    }
    // The other client may not ask for orders at all.
    let answer = post_form(
        &sigil.url("/connect/token"),
        Some(&basic("other-client", CLIENT_SECRET)),
        &form(&[
            ("grant_type", "client_credentials"),
            ("resource", "https://orders.test"),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(answer.body["error"], "invalid_target");
}
