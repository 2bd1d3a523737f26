//! `sigil grants revoke`: an operator removes a client's or a user's grants from the store
//! cluster, and the token service sees them gone at once.

use sigil_e2e::{active_for_api, issue_token, pod_config, pod_with_new_key};
use sigil_testkit::cluster::StoreCluster;
use sigil_testkit::sigil_binary;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `sigil grants revoke ARGS --config CONFIG`, without SIGIL_* variables of the caller.
fn revoke(args: &[&str], config: &Path) -> Output {
    Command::new(sigil_binary().unwrap())
        .args(["grants", "revoke"])
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("SIGIL_STORE")
        .env_remove("SIGIL_CONFIG")
        .output()
        .unwrap()
}

fn succeeded(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn revoking_a_clients_grants_makes_its_reference_tokens_inactive() {
    let cluster = StoreCluster::start(1).await.unwrap();
    let keys = cluster.dir("keys");
    let pod = pod_with_new_key(&keys, &cluster.dir("pod"), &cluster.endpoints()).await;
    let first = issue_token(&pod, "ref-client").await;
    let second = issue_token(&pod, "ref-client").await;
    assert!(active_for_api(&pod, &first).await && active_for_api(&pod, &second).await);

    // The operator's copy of the configuration names the cluster in its `store` section.
    let config = cluster.dir("operator.yaml");
    let endpoints = cluster.endpoints().replace(',', ", ");
    std::fs::write(
        &config,
        format!(
            "{}\nstore: {{ endpoints: [{endpoints}] }}\n",
            pod_config(&keys)
        ),
    )
    .unwrap();
    let stdout = succeeded(&revoke(&["--client", "ref-client"], &config));
    assert!(
        stdout.contains("Revoked 2 grants issued to client `ref-client`"),
        "{stdout}"
    );
    assert!(
        !active_for_api(&pod, &first).await,
        "revoked token still active"
    );
    assert!(
        !active_for_api(&pod, &second).await,
        "revoked token still active"
    );

    // Nothing is left to revoke; `--store` overrides the file.
    let pod_config_path = cluster.dir("pod").with_extension("yaml");
    let again = revoke(
        &["--client", "ref-client", "--store", &cluster.endpoints()],
        &pod_config_path,
    );
    assert!(succeeded(&again).contains("Revoked 0 grants"));
    let nobody = revoke(
        &["--subject", "nobody", "--store", &cluster.endpoints()],
        &pod_config_path,
    );
    assert!(succeeded(&nobody).contains("Revoked 0 grants of user `nobody`"));

    // Revoking grants does not disable the client: it gets new tokens as before.
    let fresh = issue_token(&pod, "ref-client").await;
    assert!(active_for_api(&pod, &fresh).await);
}

#[test]
fn revoke_needs_a_store_cluster_and_exactly_one_target() {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("dev.yaml");
    std::fs::write(&config, sigil_e2e::config("tokens.yaml", &[])).unwrap();

    let no_cluster = revoke(&["--subject", "alice-id"], &config);
    assert_eq!(no_cluster.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&no_cluster.stderr);
    assert!(stderr.contains("names no grant store cluster"), "{stderr}");
    assert!(stderr.contains("--store"), "{stderr}");
    assert!(stderr.contains("sigil dev"), "{stderr}");

    let both = revoke(&["--subject", "alice-id", "--client", "web"], &config);
    assert_eq!(both.status.code(), Some(2), "a usage error");
    let neither = revoke(&[], &config);
    assert_eq!(neither.status.code(), Some(2), "a usage error");
}
