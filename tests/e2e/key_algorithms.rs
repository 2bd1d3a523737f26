//! Several signing algorithms side by side: access tokens with the configured algorithm,
//! ID tokens with RS256 unless a client asks for another (OIDC Core §15.1, OIDC Dynamic Client
//! Registration §2), discovery advertising exactly what is loaded, and `sigil keys` keeping a
//! key chain per algorithm. Tokens are checked as a relying party would, against the JWKS.

use sigil_e2e::signin::{
    ALICE, Authorize, FIRST_PARTY, WEB, WEB_SCOPES, field, sign_in_and_redeem,
};
use sigil_e2e::{config, pod_config_of, sigil_keys};
use sigil_testkit::browser::Browser;
use sigil_testkit::client::{get_json, half_sha256, verify_access_token, verify_id_token};
use sigil_testkit::{SigilDev, sigil_binary};
use std::collections::BTreeSet;
use std::process::Command;

/// `signin.yaml` signing access tokens with ES256; `first-party` asks for ES256 ID tokens.
fn es256_signin_config() -> String {
    let text = config("signin.yaml", &[]).replace(
        "    require_consent: false\n",
        "    require_consent: false\n    id_token_signed_response_alg: ES256\n",
    );
    assert!(
        text.contains("id_token_signed_response_alg"),
        "signin.yaml changed shape"
    );
    format!("{text}\nsigning: {{ algorithm: ES256 }}\n")
}

fn alg_of(token: &str) -> jsonwebtoken::Algorithm {
    jsonwebtoken::decode_header(token)
        .unwrap_or_else(|e| panic!("{e}: {token}"))
        .alg
}

fn strings(value: &serde_json::Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|item| item.as_str().unwrap().to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

/// Signs `client` in as Alice and redeems the code; the token response.
async fn tokens_for(sigil: &SigilDev, client: sigil_e2e::signin::TestClient) -> serde_json::Value {
    let mut browser = Browser::new(&sigil.base_url).unwrap();
    let scope = if client.id == WEB.id {
        WEB_SCOPES
    } else {
        "openid profile orders.read"
    };
    let request = Authorize::new(client, scope);
    sign_in_and_redeem(&mut browser, &request, &ALICE, &sigil.url("/connect/token")).await
}

#[tokio::test]
async fn id_tokens_are_rs256_beside_es256_access_tokens_unless_a_client_asks_otherwise() {
    let sigil = SigilDev::start(Some(&es256_signin_config())).await.unwrap();
    let issuer = sigil.base_url.clone();

    let discovery = get_json(&sigil.url("/.well-known/openid-configuration"))
        .await
        .unwrap();
    assert_eq!(
        strings(&discovery["id_token_signing_alg_values_supported"]),
        set(&["ES256", "RS256"]),
        "RS256 is required of every OP; ES256 is what first-party asks for: {discovery}"
    );
    assert_eq!(
        strings(&discovery["access_token_signing_alg_values_supported"]),
        set(&["ES256"])
    );
    let jwks = get_json(&sigil.url("/.well-known/jwks.json"))
        .await
        .unwrap();
    let published: BTreeSet<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["alg"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(published, set(&["ES256", "RS256"]), "{jwks}");

    // A client that names no algorithm gets RS256 ID tokens (the registration default), with
    // at_hash from SHA-256; its access token is ES256.
    let tokens = tokens_for(&sigil, WEB).await;
    let id_token = field(&tokens, "id_token");
    let access_token = field(&tokens, "access_token");
    assert_eq!(alg_of(id_token), jsonwebtoken::Algorithm::RS256);
    assert_eq!(alg_of(access_token), jsonwebtoken::Algorithm::ES256);
    let claims = verify_id_token(id_token, &jwks, &issuer, WEB.id).unwrap();
    assert_eq!(claims["at_hash"], half_sha256(access_token));
    verify_access_token(access_token, &jwks, &issuer, "https://orders.test").unwrap();

    // A client registered with `id_token_signed_response_alg: ES256` gets what it asked for.
    let tokens = tokens_for(&sigil, FIRST_PARTY).await;
    let id_token = field(&tokens, "id_token");
    let access_token = field(&tokens, "access_token");
    assert_eq!(alg_of(id_token), jsonwebtoken::Algorithm::ES256);
    let claims = verify_id_token(id_token, &jwks, &issuer, FIRST_PARTY.id).unwrap();
    assert_eq!(claims["at_hash"], half_sha256(access_token));
}

/// `sigil config check FILE`: exit success and standard error.
fn config_check(text: &str) -> (bool, String) {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("sigil.yaml");
    std::fs::write(&path, text).unwrap();
    let output = Command::new(sigil_binary().unwrap())
        .args(["config", "check"])
        .arg(&path)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn config_check_refuses_id_token_algorithms_the_server_has_no_keys_for() {
    let (ok, stderr) = config_check(&es256_signin_config());
    assert!(ok, "{stderr}");

    for (case, from, to, named) in [
        (
            "a client asking for an algorithm that signing.algorithms does not list",
            "id_token_signed_response_alg: ES256",
            "id_token_signed_response_alg: EdDSA",
            &[
                "clients[5].id_token_signed_response_alg",
                "EdDSA",
                "signing.algorithms",
            ][..],
        ),
        (
            "the algorithms listed explicitly, without RS256, while clients sign users in",
            "signing: { algorithm: ES256 }",
            "signing: { algorithm: ES256, algorithms: [ES256] }",
            &["signing.algorithms", "RS256"],
        ),
    ] {
        let (ok, stderr) = config_check(&es256_signin_config().replace(from, to));
        assert!(!ok, "{case}: {stderr}");
        for name in named {
            assert!(stderr.contains(name), "{case}: {name} in {stderr}");
        }
    }
}

#[tokio::test]
async fn keys_generate_and_rotate_keep_one_chain_per_algorithm() {
    let temp = tempfile::tempdir().unwrap();
    let keys = temp.path().join("keys");
    let config_path = temp.path().join("sigil.yaml");
    // ES256 access tokens, clients that sign users in: RS256 keys are needed too.
    std::fs::write(&config_path, pod_config_of("signin.yaml", &keys)).unwrap();

    let listed = |config_path: &std::path::Path| -> Vec<(String, String)> {
        let json = sigil_keys(&["list", "--json"], config_path, &[]);
        let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
        let mut rows: Vec<(String, String)> = rows
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["kind"] == "signing key")
            .map(|row| {
                let state = row["state"].as_str().unwrap();
                let state = state.split(',').next().unwrap().to_owned();
                (row["alg"].as_str().unwrap().to_owned(), state)
            })
            .collect();
        rows.sort();
        rows
    };
    let pair = |alg: &str, state: &str| (alg.to_owned(), state.to_owned());

    let generated = sigil_keys(&["generate"], &config_path, &[]);
    assert!(
        generated.contains("ES256") && generated.contains("RS256"),
        "{generated}"
    );
    assert_eq!(
        listed(&config_path),
        [pair("ES256", "active"), pair("RS256", "active")]
    );

    let rotated = sigil_keys(&["rotate"], &config_path, &[]);
    assert!(
        rotated.contains("ES256") && rotated.contains("RS256"),
        "{rotated}"
    );
    assert_eq!(
        listed(&config_path),
        [
            pair("ES256", "active"),
            pair("ES256", "pending"),
            pair("RS256", "active"),
            pair("RS256", "pending"),
        ]
    );
}
