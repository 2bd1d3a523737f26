//! Each credential kind gets its token from the Entra ID double, and refused credentials
//! come back as errors that do not carry the secret.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::{CLIENT_ID, CLIENT_SECRET, Fixture, error_chain, now};
use serde_json::json;
use sigil_azure::AzureKeySource;
use sigil_keys::{KeySource, KeySourceError};
use sigil_testkit::keyvault::{KeyKind, VersionSpec};

const FEDERATED_CLIENT_ID: &str = "99999999-8888-4777-8666-555555555555";
/// What AKS projects into the pod (a JWT in reality; the double compares it verbatim).
const FEDERATED_TOKEN: &str =
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6c2lnaWw6c2lnaWwifQ.c2ln";

async fn fixture_with_key() -> Fixture {
    let fx = Fixture::start().await;
    fx.add_key("k", KeyKind::EcP256, VersionSpec::created_at(now()));
    fx
}

#[tokio::test]
async fn client_secret_from_a_file_gets_a_token() {
    let fx = fixture_with_key().await;
    let set = fx.source(json!({ "key": "k" })).load().await.unwrap();
    assert_eq!(set.signing.len(), 1);
    let counters = fx.double.counters();
    assert_eq!(counters.token_requests, 1);
    assert!(counters.challenges >= 1);
}

#[tokio::test]
async fn workload_identity_exchanges_the_federated_token() {
    let fx = fixture_with_key().await;
    fx.double
        .register_federated_token(FEDERATED_CLIENT_ID, FEDERATED_TOKEN);
    let token_file = fx.file("azure-identity-token", FEDERATED_TOKEN);
    let source = fx.source(json!({
        "key": "k",
        "credential": fx.workload_identity(FEDERATED_CLIENT_ID, &token_file),
    }));
    assert_eq!(source.load().await.unwrap().signing.len(), 1);
    assert_eq!(fx.double.counters().token_requests, 1);
}

#[tokio::test]
async fn a_wrong_client_secret_is_refused_without_echoing_it() {
    let fx = fixture_with_key().await;
    let wrong = "wrong-secret-9f8e7d6c5b4a";
    let source = fx.source(json!({ "key": "k", "credential": fx.client_secret(wrong) }));
    let error = source.load().await.expect_err("refused");
    let text = format!("{error:?} {}", error_chain(&error));
    assert!(
        matches!(error, KeySourceError::Unavailable { .. }),
        "{text}"
    );
    assert!(text.contains("AADSTS7000215"), "says why: {text}");
    assert!(
        !text.contains(wrong) && !text.contains(CLIENT_SECRET),
        "{text}"
    );
    assert!(
        !text.contains("kv-double-"),
        "no access token in errors: {text}"
    );
    assert_eq!(fx.double.counters().sign_calls, 0);
}

#[tokio::test]
async fn an_unknown_federated_token_is_refused() {
    let fx = fixture_with_key().await;
    let token_file = fx.file("token", "not.registered.token");
    let source = fx.source(json!({
        "key": "k",
        "credential": fx.workload_identity(FEDERATED_CLIENT_ID, &token_file),
    }));
    let error = source.load().await.expect_err("refused");
    assert!(
        matches!(error, KeySourceError::Unavailable { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_wrong_tenant_is_refused() {
    let fx = fixture_with_key().await;
    let mut credential = fx.client_secret(CLIENT_SECRET);
    credential["tenant_id"] = json!("00000000-0000-4000-8000-000000000bad");
    let error = fx
        .source(json!({ "key": "k", "credential": credential }))
        .load()
        .await
        .expect_err("refused");
    assert!(
        error_chain(&error).contains("AADSTS90002"),
        "{}",
        error_chain(&error)
    );
}

#[tokio::test]
async fn a_missing_secret_env_var_fails_at_setup() {
    let fx = Fixture::start().await;
    let config = fx.config(json!({
        "key": "k",
        "credential": {
            "type": "client_secret",
            "tenant_id": fx.double.tenant_id(),
            "client_id": CLIENT_ID,
            "secret_env": "SIGIL_AZURE_TEST_SECRET_THAT_IS_NOT_SET",
        },
    }));
    let error = AzureKeySource::new(&config).expect_err("no secret");
    assert!(
        error
            .to_string()
            .contains("SIGIL_AZURE_TEST_SECRET_THAT_IS_NOT_SET")
    );
}

/// Managed identity needs `IDENTITY_ENDPOINT` / `IDENTITY_HEADER` in the process
/// environment (the SDK reads nothing else to find a loopback endpoint; without them it would
/// call the instance metadata address). Tests cannot set the environment of their own
/// process safely, so this one runs the child test below in a fresh process of this binary
/// with those variables pointing at the double.
#[tokio::test]
async fn managed_identity_through_the_app_service_endpoint() {
    let fx = fixture_with_key().await;
    let output = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "managed_identity_child",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env("IDENTITY_ENDPOINT", fx.double.identity_endpoint())
        .env("IDENTITY_HEADER", fx.double.identity_header())
        .env_remove("IDENTITY_SERVER_THUMBPRINT")
        .env_remove("MSI_ENDPOINT")
        .env_remove("MSI_SECRET")
        .env("KV_DOUBLE_VAULT_URL", fx.double.vault_url())
        .env("KV_DOUBLE_CA_FILE", fx.double.ca_file())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(fx.double.counters().token_requests, 1);
    assert_eq!(
        fx.double.last_managed_identity(),
        Some(("client_id".to_owned(), "mi-client-id".to_owned()))
    );
}

/// Run only by the test above, in a child process whose environment points managed identity
/// at the double.
#[tokio::test]
#[ignore = "run by managed_identity_through_the_app_service_endpoint in a child process"]
async fn managed_identity_child() {
    let (Ok(vault_url), Ok(ca_file), Ok(_)) = (
        std::env::var("KV_DOUBLE_VAULT_URL"),
        std::env::var("KV_DOUBLE_CA_FILE"),
        std::env::var("IDENTITY_ENDPOINT"),
    ) else {
        panic!("only runs as a child of managed_identity_through_the_app_service_endpoint");
    };
    let config = serde_json::from_value(json!({
        "vault_url": vault_url,
        "key": "k",
        "credential": { "type": "managed_identity", "client_id": "mi-client-id" },
        "ca_file": ca_file,
        "verify_challenge_resource": false,
        "max_retries": 0,
    }))
    .unwrap();
    let source = AzureKeySource::new(&config).unwrap();
    assert_eq!(source.load().await.unwrap().signing.len(), 1);
}
