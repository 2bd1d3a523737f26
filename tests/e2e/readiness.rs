//! `/readyz` says what this pod can do (its listener answers, its keys are loaded), not how
//! the grant store is doing: a store that loses its majority must not take pods out of
//! rotation, since JWT access tokens need no store. The store's health is the
//! `sigil_store_reachable` gauge instead, which must show the outage and the recovery.

use sigil_e2e::{CLIENT_SECRET, deployment_config};
use sigil_testkit::SigilDev;
use sigil_testkit::client::{basic, post_form};
use sigil_testkit::cluster::{StoreCluster, StoreNode, metric_value, metrics_text};
use std::time::{Duration, Instant};

/// Longer than the old readiness check took to fail (a success was trusted for 3 s, a probe
/// given 2 s), with margin.
const OUTAGE: Duration = Duration::from_secs(8);

async fn store_reachable(pod: &SigilDev) -> Option<f64> {
    let text = metrics_text(&pod.base_url).await.ok()?;
    metric_value(&text, "sigil_store_reachable")
}

async fn wait_for_gauge(pod: &SigilDev, value: f64, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let seen = store_reachable(pod).await;
        if seen == Some(value) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "sigil_store_reachable is {seen:?}, not {value}, after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn readyz(pod: &SigilDev) -> u16 {
    reqwest::get(pod.url("/readyz"))
        .await
        .map_or(0, |response| response.status().as_u16())
}

async fn token(pod: &SigilDev, client: &str) -> u16 {
    post_form(
        &pod.url("/connect/token"),
        Some(&basic(client, CLIENT_SECRET)),
        "grant_type=client_credentials",
    )
    .await
    .map_or(0, |answer| answer.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_without_a_majority_leaves_pods_ready_and_issuing_jwts() {
    let mut cluster = StoreCluster::start(3).await.unwrap();
    let config = deployment_config(&cluster, "load.yaml", "");
    let pod = SigilDev::start_pod(&cluster.dir("pod"), &config, &cluster.endpoints())
        .await
        .unwrap();
    wait_for_gauge(&pod, 1.0, Duration::from_secs(20)).await;
    assert_eq!(token(&pod, "ref-client").await, 200);

    // Two of three nodes gone: no leader, no linearizable read, no write.
    let mut stopped = Vec::new();
    for _ in 0..2 {
        let mut node = cluster.nodes.pop().unwrap();
        node.kill().unwrap();
        stopped.push(node);
    }
    let began = Instant::now();
    let mut jwts = 0;
    while began.elapsed() < OUTAGE {
        assert_eq!(
            readyz(&pod).await,
            200,
            "not ready {:?} into the store outage",
            began.elapsed()
        );
        assert_eq!(token(&pod, "jwt-client").await, 200, "a JWT needs no store");
        jwts += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(jwts > 10, "only {jwts} JWT requests in {OUTAGE:?}");
    assert_eq!(
        store_reachable(&pod).await,
        Some(0.0),
        "the outage shows in the gauge"
    );
    // A reference token is a store write: it waits for the store, then says so.
    assert_eq!(token(&pod, "ref-client").await, 503);

    for node in stopped.into_iter().rev() {
        let listen = node.url.trim_start_matches("http://").to_owned();
        let (id, data_dir) = (node.id, node.data_dir.clone());
        drop(node);
        cluster.nodes.push(
            StoreNode::start(id, &listen, &cluster.peers, &data_dir)
                .await
                .unwrap(),
        );
    }
    wait_for_gauge(&pod, 1.0, Duration::from_secs(30)).await;
    assert_eq!(readyz(&pod).await, 200);
    assert_eq!(token(&pod, "ref-client").await, 200);
}
