//! `sigil serve`: stateless token-service pods in front of a `sigil store` cluster. Pods
//! share one file key and one issuer; any pod sees what another issued or revoked.

use sigil_e2e::{
    CLIENT_SECRET, ORDERS_API, POD_ISSUER, config, introspect, issue_token, pod_config,
};
use sigil_testkit::SigilDev;
use sigil_testkit::client::{basic, form, get_json, post_form, verify_access_token};
use sigil_testkit::cluster::{StoreCluster, write_signing_key};
use sigil_testkit::sigil_binary;
use std::process::Command;
use std::time::{Duration, Instant};

#[tokio::test]
async fn pods_share_grants_and_keys_through_the_store_cluster() {
    let cluster = StoreCluster::start(3).await.unwrap();
    let keys = cluster.dir("keys");
    write_signing_key(&keys).unwrap();
    let config = pod_config(&keys);
    let pod_a = SigilDev::start_pod(&cluster.dir("pod-a"), &config, &cluster.endpoints())
        .await
        .unwrap();
    let pod_b = SigilDev::start_pod(&cluster.dir("pod-b"), &config, &cluster.endpoints())
        .await
        .unwrap();

    // A reference token issued on A is active on B.
    let token = issue_token(&pod_a, "ref-client").await;
    let seen = introspect(&pod_b, ORDERS_API, &token).await;
    assert_eq!(seen.status, 200);
    assert_eq!(seen.body["active"], true, "{:?}", seen.body);
    assert_eq!(seen.body["client_id"], "ref-client");

    // Revoked on B, it is inactive on A.
    let revoked = post_form(
        &pod_b.url("/connect/revocation"),
        Some(&basic("ref-client", CLIENT_SECRET)),
        &form(&[("token", &token)]),
    )
    .await
    .unwrap();
    assert_eq!(revoked.status, 200, "{:?}", revoked.body);
    assert_eq!(
        introspect(&pod_a, ORDERS_API, &token).await.body["active"],
        false
    );

    // A JWT from A verifies with B's JWKS.
    let jwt = issue_token(&pod_a, "jwt-client").await;
    let jwks = get_json(&pod_b.url("/.well-known/jwks.json"))
        .await
        .unwrap();
    let claims = verify_access_token(&jwt, &jwks, POD_ISSUER, "https://orders.test").unwrap();
    assert_eq!(claims["client_id"], "jwt-client");
}

#[test]
fn serve_refuses_the_dev_key_source() {
    let temp = tempfile::tempdir().unwrap();
    let config_path = temp.path().join("sigil.yaml");
    std::fs::write(&config_path, config("tokens.yaml", &[])).unwrap();
    let output = Command::new(sigil_binary().unwrap())
        .arg("serve")
        .arg("--config")
        .arg(&config_path)
        .args(["--store", "http://127.0.0.1:1", "--listen", "127.0.0.1:0"])
        .args(["--issuer", POD_ISSUER])
        .env_remove("SIGIL_STORE")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("kind `dev` is for `sigil dev` only"),
        "{stderr}"
    );
    assert!(stderr.contains("kind: file"), "{stderr}");
}

#[test]
fn serve_without_a_store_explains_how_to_name_one() {
    let temp = tempfile::tempdir().unwrap();
    let keys = temp.path().join("keys");
    write_signing_key(&keys).unwrap();
    let config_path = temp.path().join("sigil.yaml");
    std::fs::write(&config_path, pod_config(&keys)).unwrap();
    let output = Command::new(sigil_binary().unwrap())
        .arg("serve")
        .arg("--config")
        .arg(&config_path)
        .env_remove("SIGIL_STORE")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no grant store: pass --store"), "{stderr}");
}

/// Pods behind one Service must all mint the same `iss`: a pod that would fall back to its
/// own listen address refuses to start instead, saying which setting is missing.
#[test]
fn serve_refuses_to_start_without_an_issuer() {
    let temp = tempfile::tempdir().unwrap();
    let keys = temp.path().join("keys");
    write_signing_key(&keys).unwrap();
    let config_path = temp.path().join("sigil.yaml");
    let without_issuer =
        pod_config(&keys).replace(&format!("server: {{ issuer: \"{POD_ISSUER}\" }}\n"), "");
    assert!(!without_issuer.contains("issuer"), "{without_issuer}");
    std::fs::write(&config_path, without_issuer).unwrap();
    let mut child = Command::new(sigil_binary().unwrap())
        .arg("serve")
        .arg("--config")
        .arg(&config_path)
        .args(["--store", "http://127.0.0.1:1", "--listen", "127.0.0.1:0"])
        .env_remove("SIGIL_STORE")
        .env_remove("SIGIL_ISSUER")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("sigil serve started without an issuer");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert!(stderr.contains("server.issuer"), "{stderr}");
    assert!(stderr.contains("--issuer"), "{stderr}");
}
