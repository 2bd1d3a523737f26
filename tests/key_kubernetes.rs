//! `sigil serve` and `sigil keys` with the keys in a Kubernetes Secret — a local double of the
//! Kubernetes API (get, list, watch, create, replace of Secrets), reached through the `kube`
//! client from a kubeconfig, exactly as in a cluster (no real cluster is reachable here).

use sigil_e2e::{CLIENT_SECRET, POD_ISSUER, config};
use sigil_testkit::SigilDev;
use sigil_testkit::client::{basic, get_json, post_form, verify_access_token};
use sigil_testkit::cluster::{StoreCluster, serve_pod_with_env};
use sigil_testkit::kube_api::FakeKubeApi;
use sigil_testkit::sigil_binary;
use std::path::Path;
use std::time::{Duration, Instant};

fn kubeconfig(api: &FakeKubeApi) -> String {
    format!(
        "apiVersion: v1\nkind: Config\n\
         clusters: [{{ name: test, cluster: {{ server: \"{}\" }} }}]\n\
         users: [{{ name: test, user: {{}} }}]\n\
         contexts: [{{ name: test, context: {{ cluster: test, user: test }} }}]\n\
         current-context: test\n",
        api.url()
    )
}

fn pod_config() -> String {
    format!(
        "{}\nserver: {{ issuer: \"{POD_ISSUER}\" }}\n\
         signing:\n  algorithm: ES256\n  \
         source: {{ kind: kubernetes, namespace: identity, secrets: [sigil-keys] }}\n",
        config("tokens.yaml", &[]),
    )
}

fn sigil_keys(args: &[&str], config: &Path, kubeconfig: &Path) -> String {
    let output = std::process::Command::new(sigil_binary().unwrap())
        .arg("keys")
        .args(args)
        .arg("--config")
        .arg(config)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "sigil keys {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn issue(pod: &SigilDev) -> String {
    let answer = post_form(
        &pod.url("/connect/token"),
        Some(&basic("jwt-client", CLIENT_SECRET)),
        "grant_type=client_credentials",
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["access_token"].as_str().unwrap().to_owned()
}

async fn published_kids(pod: &SigilDev) -> Vec<String> {
    let jwks = get_json(&pod.url("/.well-known/jwks.json")).await.unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
}

// Multi-threaded: `sigil keys` runs as a blocking child process while the API double answers
// it from this test's runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_read_and_watch_the_secret_that_sigil_keys_maintains() {
    let api = FakeKubeApi::start().await.unwrap();
    let cluster = StoreCluster::start(1).await.unwrap();
    let kubeconfig_path = cluster.dir("kubeconfig");
    std::fs::write(&kubeconfig_path, kubeconfig(&api)).unwrap();
    let config_path = cluster.dir("pod.yaml");
    std::fs::write(&config_path, pod_config()).unwrap();

    // `sigil keys generate` creates the Secret with the first key and session secret.
    let generated = sigil_keys(&["generate"], &config_path, &kubeconfig_path);
    assert!(generated.contains("signing key"), "{generated}");
    let data = api
        .secret_data("identity", "sigil-keys")
        .expect("the Secret was created");
    assert_eq!(
        data.keys().filter(|name| name.ends_with(".pem")).count(),
        1,
        "{:?}",
        data.keys()
    );
    assert_eq!(data.keys().filter(|name| name.ends_with(".jwk")).count(), 1);

    let kubeconfig_text = kubeconfig_path.display().to_string();
    let env = [("KUBECONFIG", kubeconfig_text.as_str())];
    let mut pods = Vec::new();
    for name in ["pod-a", "pod-b"] {
        pods.push(
            serve_pod_with_env(
                &cluster.dir(name),
                &pod_config(),
                &cluster.endpoints(),
                &env,
            )
            .await
            .unwrap(),
        );
    }
    let jwks = get_json(&pods[1].url("/.well-known/jwks.json"))
        .await
        .unwrap();
    let token = issue(&pods[0]).await;
    verify_access_token(&token, &jwks, POD_ISSUER, "https://orders.test").unwrap();
    let first_kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();

    // `sigil keys rotate` replaces the Secret; both pods see the pending key through their
    // watch, long before the 60 s refresh timer, and keep signing with the first key.
    let listed = sigil_keys(&["list"], &config_path, &kubeconfig_path);
    assert!(listed.contains("active"), "{listed}");
    let rotated = sigil_keys(&["rotate"], &config_path, &kubeconfig_path);
    assert!(rotated.contains("published now"), "{rotated}");
    let started = Instant::now();
    for pod in &pods {
        loop {
            if published_kids(pod).await.len() == 2 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the watch never delivered the new key"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    eprintln!(
        "both pods published the new key {:?} after the rotation",
        started.elapsed()
    );
    for pod in &pods {
        let token = issue(pod).await;
        assert_eq!(
            jsonwebtoken::decode_header(&token).unwrap().kid.unwrap(),
            first_kid
        );
    }
    let listed = sigil_keys(&["list", "--json"], &config_path, &kubeconfig_path);
    let rows: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let pending = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["state"].as_str().unwrap().starts_with("pending"))
        .count();
    assert_eq!(
        pending, 2,
        "a pending key and a pending session secret: {listed}"
    );

    // The API server goes away: pods keep serving with the keys they have.
    api.set_available(false);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let token = issue(&pods[1]).await;
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().kid.unwrap(),
        first_kid
    );
    api.set_available(true);
}
