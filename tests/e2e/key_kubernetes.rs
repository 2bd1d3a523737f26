//! `sigil serve` and `sigil keys` with the keys in a Kubernetes Secret — a local double of the
//! Kubernetes API (get, list, watch, create, replace of Secrets), reached through the `kube`
//! client from a kubeconfig, exactly as in a cluster (no real cluster is reachable here).

use sigil_e2e::{POD_ISSUER, config, issue_token, kid_of, sigil_keys};
use sigil_testkit::SigilDev;
use sigil_testkit::client::{get_json, verify_access_token};
use sigil_testkit::cluster::StoreCluster;
use sigil_testkit::kube_api::FakeKubeApi;
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

    let kubeconfig_text = kubeconfig_path.display().to_string();
    let env = [("KUBECONFIG", kubeconfig_text.as_str())];

    // `sigil keys generate` creates the Secret with the first key and session secret.
    let generated = sigil_keys(&["generate"], &config_path, &env);
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

    let mut pods = Vec::new();
    for name in ["pod-a", "pod-b"] {
        pods.push(
            SigilDev::start_pod_with_env(
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
    let token = issue_token(&pods[0], "jwt-client").await;
    verify_access_token(&token, &jwks, POD_ISSUER, "https://orders.test").unwrap();
    let first_kid = kid_of(&token);

    // `sigil keys rotate` replaces the Secret; both pods see the pending key through their
    // watch, long before the 60 s refresh timer, and keep signing with the first key.
    let listed = sigil_keys(&["list"], &config_path, &env);
    assert!(listed.contains("active"), "{listed}");
    let rotated = sigil_keys(&["rotate"], &config_path, &env);
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
        let token = issue_token(pod, "jwt-client").await;
        assert_eq!(kid_of(&token), first_kid);
    }
    let listed = sigil_keys(&["list", "--json"], &config_path, &env);
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
    let token = issue_token(&pods[1], "jwt-client").await;
    assert_eq!(kid_of(&token), first_kid);
    api.set_available(true);
}
