//! The command line as a new user meets it: `sigil dev` with the demo configuration,
//! `sigil config check`, `sigil secret`.

use sigil_testkit::client::{basic, post_form};
use sigil_testkit::{SigilDev, sigil_binary};
use std::process::Command;

#[tokio::test]
async fn dev_creates_a_demo_client_whose_printed_secret_works_across_restarts() {
    let temp = tempfile::tempdir().unwrap();
    let data_dir = temp.path().join("data");
    let mut first = SigilDev::start_in(&data_dir, None, &[]).await.unwrap();
    let secret = std::fs::read_to_string(data_dir.join("demo-client-secret"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(data_dir.join("sigil.yaml").exists());
    let password = std::fs::read_to_string(data_dir.join("demo-user-password")).unwrap();
    assert!(
        password.trim().len() >= 16,
        "a generated password: {password:?}"
    );
    let answer = post_form(
        &first.url("/connect/token"),
        Some(&basic("demo", &secret)),
        "grant_type=client_credentials",
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    first.stop().unwrap();

    let config_before = std::fs::read_to_string(data_dir.join("sigil.yaml")).unwrap();
    let second = SigilDev::start_in(&data_dir, None, &[]).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(data_dir.join("sigil.yaml")).unwrap(),
        config_before,
        "not regenerated"
    );
    assert_eq!(
        std::fs::read_to_string(data_dir.join("demo-user-password")).unwrap(),
        password,
        "the demo user keeps their password"
    );
    let answer = post_form(
        &second.url("/connect/token"),
        Some(&basic("demo-reference", &secret)),
        "grant_type=client_credentials",
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

#[test]
fn config_check_accepts_the_example_and_explains_errors() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/sigil.example.yaml");
    let ok = Command::new(sigil_binary().unwrap())
        .args(["config", "check", example])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        stdout
            .contains("ok (4 clients, 1 API resources, 2 API scopes, 7 identity scopes, 1 users)"),
        "{stdout}"
    );

    let temp = tempfile::tempdir().unwrap();
    let broken = temp.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "clients:\n  - client_id: x\n    grant_type: [client_credentials]\n",
    )
    .unwrap();
    let bad = Command::new(sigil_binary().unwrap())
        .args(["config", "check"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("clients[0]: unknown field `grant_type`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 3"),
        "the error points at the line: {stderr}"
    );

    // A command that loads the same file says so once, not once per layer of the error.
    let dev = Command::new(sigil_binary().unwrap())
        .args(["dev", "--listen", "127.0.0.1:0", "--config"])
        .arg(&broken)
        .arg("--data-dir")
        .arg(temp.path().join("data"))
        .output()
        .unwrap();
    assert!(!dev.status.success());
    let stderr = String::from_utf8_lossy(&dev.stderr);
    assert_eq!(
        stderr.matches("unknown field `grant_type`").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn secret_generate_prints_a_secret_and_its_config_value() {
    let output = Command::new(sigil_binary().unwrap())
        .args(["secret", "generate"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let secret = stdout
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .unwrap();
    let stored = stdout
        .lines()
        .find_map(|l| l.strip_prefix("config: "))
        .unwrap();
    assert_eq!(secret.len(), 43);
    assert_eq!(stored, sigil_testkit::client::sha256_secret(secret));
}

#[test]
fn a_start_up_error_names_each_cause_once() {
    // The port is taken: the store node cannot bind it, and says why once, not once per
    // layer of the error.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let store = Command::new(sigil_binary().unwrap())
        .args(["store", "--id", "1", "--listen"])
        .arg(address.to_string())
        .arg("--peers")
        .arg(format!("1=http://{address}"))
        .arg("--data-dir")
        .arg(temp.path().join("store"))
        .output()
        .unwrap();
    assert!(!store.status.success());
    let stderr = String::from_utf8_lossy(&store.stderr);
    let error = stderr
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(error.contains(&format!("binding {address}")), "{stderr}");
    assert_eq!(error.matches("(os error").count(), 1, "{stderr}");
}
