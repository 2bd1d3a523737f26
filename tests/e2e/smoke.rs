//! `sigil smoke`, what the Helm chart's test Pod runs: it passes against a healthy `sigil dev`
//! and fails, saying why, when the issuer, the secret or the token format is not what it expects.

use sigil_testkit::cluster::free_port;
use sigil_testkit::{SigilDev, sigil_binary};
use std::path::Path;
use std::process::{Command, Output};

fn smoke(args: &[&str]) -> Output {
    Command::new(sigil_binary().unwrap())
        .arg("smoke")
        .args(args)
        .env_remove("SIGIL_SMOKE_ISSUER")
        .env_remove("SIGIL_SMOKE_URL")
        .output()
        .unwrap()
}

/// `sigil smoke` against `issuer` as client `client_id` with the secret in `secret_file`.
fn smoke_as(issuer: &str, client_id: &str, secret_file: &str, more: &[&str]) -> Output {
    let mut args = vec![
        "--issuer",
        issuer,
        "--client-id",
        client_id,
        "--client-secret-file",
        secret_file,
    ];
    args.extend_from_slice(more);
    smoke(&args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn secret_file(dev: &SigilDev) -> String {
    dev.data_dir
        .join("demo-client-secret")
        .to_string_lossy()
        .into_owned()
}

/// Asserts that `sigil smoke` failed and that its message contains `expected`.
fn assert_fails_with(output: &Output, expected: &str) {
    let stderr = text(&output.stderr);
    assert!(
        !output.status.success(),
        "should fail; stdout: {}",
        text(&output.stdout)
    );
    assert!(stderr.contains(expected), "{stderr}");
}

#[tokio::test]
async fn passes_against_dev_with_a_jwt_client_and_without_a_client() {
    let dev = SigilDev::start(None).await.unwrap();
    let secret = secret_file(&dev);
    let output = smoke_as(&dev.base_url, "demo", &secret, &["--scope", "api.read"]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    for check in ["ok  discovery", "ok  jwks", "ok  token"] {
        assert!(stdout.contains(check), "{check}: {stdout}");
    }
    assert!(
        stdout.contains("signature, iss and exp verified"),
        "{stdout}"
    );

    let output = smoke(&["--issuer", &dev.base_url]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", text(&output.stderr));
    assert!(stdout.contains("ok  jwks"), "{stdout}");
    assert!(stdout.contains("--  token      not checked"), "{stdout}");
}

#[tokio::test]
async fn fails_when_discovery_names_another_issuer() {
    let dev = SigilDev::start(None).await.unwrap();
    // The same server reached under another name: its discovery names 127.0.0.1.
    let port = dev.base_url.rsplit(':').next().unwrap();
    let expected = format!("http://localhost:{port}");
    let output = smoke(&["--issuer", &expected, "--url", &dev.base_url]);
    assert_fails_with(
        &output,
        &format!(
            "names the issuer \"{}\", expected \"{expected}\"",
            dev.base_url
        ),
    );
}

#[tokio::test]
async fn fails_with_a_wrong_secret_or_a_reference_token_client() {
    let dev = SigilDev::start(None).await.unwrap();
    let wrong = dev.data_dir.with_extension("wrong-secret");
    std::fs::write(&wrong, "not-the-secret\n").unwrap();
    let output = smoke_as(&dev.base_url, "demo", &wrong.to_string_lossy(), &[]);
    assert_fails_with(
        &output,
        "refused client \"demo\": 401 Unauthorized invalid_client",
    );
    assert!(text(&output.stdout).contains("ok  jwks"), "got that far");

    let secret = secret_file(&dev);
    let output = smoke_as(&dev.base_url, "demo-reference", &secret, &[]);
    assert_fails_with(&output, "the access token is not a JWT");
}

#[test]
fn fails_when_nothing_answers_or_the_secret_file_is_missing() {
    let issuer = format!("http://127.0.0.1:{}", free_port().unwrap());
    let output = smoke(&["--issuer", &issuer, "--timeout", "5s"]);
    assert_fails_with(
        &output,
        &format!("discovery: no answer from {issuer}/.well-known/openid-configuration"),
    );

    let missing = Path::new("/nonexistent/secret");
    let output = smoke_as(&issuer, "demo", &missing.to_string_lossy(), &[]);
    assert_fails_with(
        &output,
        "reading the client secret file /nonexistent/secret",
    );
    let output = smoke(&["--issuer", "auth.example.com"]);
    assert_fails_with(&output, "\"auth.example.com\" is not an http or https URL");
}

#[tokio::test]
async fn speaks_https_trusting_the_ca_file_and_refuses_an_unknown_certificate() {
    // Any https server with a private CA will do: the Key Vault double has no discovery
    // document, so a TLS handshake that succeeded ends in its 400 (no api-version).
    let server = sigil_testkit::keyvault::KeyVaultDouble::start()
        .await
        .unwrap();
    let issuer = server.authority_host();
    let ca_file = server.ca_file().to_string_lossy().into_owned();
    let run = |extra: &[&str]| {
        let mut command = Command::new(sigil_binary().unwrap());
        command
            .args(["smoke", "--issuer", &issuer])
            .args(extra)
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .env_remove("SIGIL_SMOKE_CA_FILE");
        command
    };
    let output = tokio::task::spawn_blocking({
        let mut command = run(&["--ca-file", &ca_file]);
        move || command.output().unwrap()
    })
    .await
    .unwrap();
    assert_fails_with(
        &output,
        &format!("discovery: {issuer}/.well-known/openid-configuration answered 400"),
    );

    let output = tokio::task::spawn_blocking({
        let mut command = run(&[]);
        move || command.output().unwrap()
    })
    .await
    .unwrap();
    assert_fails_with(&output, "discovery: no answer from");
    assert!(
        text(&output.stderr).contains("certificate"),
        "{}",
        text(&output.stderr)
    );
}
