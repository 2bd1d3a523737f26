//! Discovery, JWKS, health and routing, as a client library would see them.

use sigil_e2e::config;
use sigil_testkit::SigilDev;
use sigil_testkit::client::get_json;

#[tokio::test]
async fn discovery_advertises_every_endpoint_under_the_issuer() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    let issuer = &sigil.base_url;
    let oidc = get_json(&sigil.url("/.well-known/openid-configuration"))
        .await
        .unwrap();
    let oauth = get_json(&sigil.url("/.well-known/oauth-authorization-server"))
        .await
        .unwrap();
    assert_eq!(
        oidc, oauth,
        "both metadata documents describe the same server"
    );

    assert_eq!(oidc["issuer"], issuer.as_str());
    for (field, path) in [
        ("token_endpoint", "/connect/token"),
        ("introspection_endpoint", "/connect/introspect"),
        ("revocation_endpoint", "/connect/revocation"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(oidc[field], format!("{issuer}{path}"), "{field}");
    }
    assert_eq!(
        oidc["grant_types_supported"],
        serde_json::json!(["authorization_code", "client_credentials", "refresh_token"])
    );
    assert_eq!(
        oidc["scopes_supported"],
        serde_json::json!([
            "address",
            "billing.read",
            "email",
            "offline_access",
            "openid",
            "orders.read",
            "orders.write",
            "phone",
            "profile"
        ])
    );
    let methods = oidc["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap();
    for method in [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ] {
        assert!(methods.iter().any(|m| m == method), "{method}");
    }
    assert_eq!(
        oidc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );

    // Every advertised endpoint answers (POST-only ones say so on GET).
    for field in [
        "token_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
    ] {
        let response = reqwest::get(oidc[field].as_str().unwrap()).await.unwrap();
        assert_eq!(response.status(), 405, "{field}");
        assert_eq!(response.headers()["allow"], "POST");
    }
}

#[tokio::test]
async fn jwks_publishes_public_keys_only() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    let jwks = get_json(&sigil.url("/.well-known/jwks.json"))
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert!(key["kid"].as_str().is_some_and(|kid| !kid.is_empty()));
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(key.get(private).is_none(), "JWKS leaks `{private}`");
    }
}

#[tokio::test]
async fn health_readiness_and_unknown_paths() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    assert_eq!(
        reqwest::get(sigil.url("/healthz")).await.unwrap().status(),
        200
    );
    assert_eq!(
        reqwest::get(sigil.url("/readyz")).await.unwrap().status(),
        200
    );
    let missing = reqwest::get(sigil.url("/nope")).await.unwrap();
    assert_eq!(missing.status(), 404);
}
