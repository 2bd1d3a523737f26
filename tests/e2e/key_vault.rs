//! `sigil serve` with its keys in Azure Key Vault — a local double speaking Key Vault's and
//! Entra ID's REST protocols over HTTPS with a test CA, reached through the official Azure SDK
//! crates exactly as in production (Azure itself is unreachable from the test machines).

use sigil_e2e::{POD_ISSUER, config, issue_token, kid_of};
use sigil_testkit::SigilDev;
use sigil_testkit::client::{get_json, verify_access_token};
use sigil_testkit::cluster::StoreCluster;
use sigil_testkit::keyvault::{KeyKind, KeyVaultDouble, SecretFormat, VersionSpec};

const APP_ID: &str = "0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f";
const APP_SECRET: &str = "vault-app-secret-never-logged";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A pod configuration whose keys come from the double: `object` is `key: NAME` or
/// `certificate: NAME`.
fn vault_config(double: &KeyVaultDouble, object: &str, secret_file: &std::path::Path) -> String {
    format!(
        "{}\nserver: {{ issuer: \"{POD_ISSUER}\" }}\n\
         signing:\n  algorithm: ES256\n  refresh_interval: 2s\n  source:\n    kind: azure\n    vault_url: \"{}\"\n    \
         {object}\n    session_secret: sigil-session\n    ca_file: \"{}\"\n    \
         verify_challenge_resource: false\n    \
         credential: {{ type: client_secret, tenant_id: \"{}\", client_id: \"{APP_ID}\", secret_file: \"{}\", authority_host: \"{}\" }}\n",
        config("tokens.yaml", &[]),
        double.vault_url(),
        double.ca_file().display(),
        double.tenant_id(),
        secret_file.display(),
        double.authority_host(),
    )
}

#[tokio::test]
async fn tokens_signed_in_the_vault_or_with_certificate_keys_verify_against_the_jwks() {
    let double = KeyVaultDouble::start().await.unwrap();
    double.register_client_secret(APP_ID, APP_SECRET);
    let three_days_ago = now() - 3 * 24 * 3600;
    let key = double
        .add_key_version(
            "sigil-signing",
            KeyKind::EcP256,
            VersionSpec::created_at(three_days_ago),
        )
        .unwrap();
    double
        .add_certificate_version(
            "sigil-cert",
            KeyKind::EcP256,
            VersionSpec::created_at(three_days_ago),
            SecretFormat::Pem,
        )
        .unwrap();
    use base64::Engine as _;
    let session_value = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    double.add_secret_version(
        "sigil-session",
        &session_value,
        None,
        VersionSpec::created_at(three_days_ago),
    );

    let cluster = StoreCluster::start(1).await.unwrap();
    let secret_file = cluster.dir("app-secret");
    std::fs::write(&secret_file, format!("{APP_SECRET}\n")).unwrap();

    // Key mode: the private key never leaves the vault; every token is one `sign` call.
    let key_pod = SigilDev::start_pod(
        &cluster.dir("key-pod"),
        &vault_config(&double, "key: sigil-signing", &secret_file),
        &cluster.endpoints(),
    )
    .await
    .unwrap();
    let challenges = double.counters().challenges;
    assert!(challenges >= 1, "the SDK answered the bearer challenge");
    let signs_before = double.counters().sign_calls;
    let jwks = get_json(&key_pod.url("/.well-known/jwks.json"))
        .await
        .unwrap();
    for _ in 0..5 {
        let token = issue_token(&key_pod, "jwt-client").await;
        let claims = verify_access_token(&token, &jwks, POD_ISSUER, "https://orders.test").unwrap();
        assert_eq!(claims["client_id"], "jwt-client");
    }
    assert_eq!(
        double.counters().sign_calls - signs_before,
        5,
        "one vault sign per token"
    );
    let published = &jwks["keys"][0];
    assert_eq!(
        (published["x"].clone(), published["y"].clone()),
        (key.public_jwk["x"].clone(), key.public_jwk["y"].clone())
    );
    assert!(published.get("d").is_none());

    // Certificate mode: the version's key is fetched once and signs locally.
    let cert_pod = SigilDev::start_pod(
        &cluster.dir("cert-pod"),
        &vault_config(&double, "certificate: sigil-cert", &secret_file),
        &cluster.endpoints(),
    )
    .await
    .unwrap();
    let signs_before = double.counters().sign_calls;
    let jwks = get_json(&cert_pod.url("/.well-known/jwks.json"))
        .await
        .unwrap();
    let token = issue_token(&cert_pod, "jwt-client").await;
    verify_access_token(&token, &jwks, POD_ISSUER, "https://orders.test").unwrap();
    assert_eq!(
        double.counters().sign_calls,
        signs_before,
        "certificate keys sign locally"
    );

    // A new version created in the vault is published on the next refresh but does not sign
    // before its propagation period (2 days by default) has passed.
    let old_kid = kid_of(&issue_token(&key_pod, "jwt-client").await);
    double
        .add_key_version(
            "sigil-signing",
            KeyKind::EcP256,
            VersionSpec::created_at(now()),
        )
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(100);
    loop {
        let jwks = get_json(&key_pod.url("/.well-known/jwks.json"))
            .await
            .unwrap();
        if jwks["keys"].as_array().unwrap().len() == 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the new version was never published"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_eq!(kid_of(&issue_token(&key_pod, "jwt-client").await), old_kid);
}
