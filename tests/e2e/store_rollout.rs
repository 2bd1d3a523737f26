//! A rolling restart of the grant store under token load, as a StatefulSet rollout does it:
//! three `sigil store` nodes, restarted one at a time from the highest ordinal down (SIGTERM,
//! wait for the exit, start again on the same port and data, wait for its `/readyz`, which
//! answers 200 only once the node has caught up with its leader), while two `sigil serve` pods
//! take continuous load: JWT and reference access tokens by client credentials, and refresh
//! token rotation. Every node is restarted, so the leader is too, and the rollout runs twice,
//! so that the second one meets the leadership on a node that was restarted moments before.
//!
//! Not one token request may fail: the pods' store client must ride out each restart within
//! its retry budget. A stopping leader must hand over rather than leave its followers to time
//! out and elect: once its process has exited, another node already leads. The worst request latency and, for each leader stopped, how long after
//! SIGTERM another node led, are printed.

use sigil_e2e::{deployment_config, load_plan};
use sigil_testkit::SigilDev;
use sigil_testkit::cluster::{StoreCluster, raft_view};
use sigil_testkit::load::Load;
use std::time::{Duration, Instant};

/// Workers per pod.
const WORKERS: usize = 3;
/// Generous bounds for a loaded machine: they only stop a test that hangs.
const READY_WITHIN: Duration = Duration::from_secs(30);
const PROGRESS_WITHIN: Duration = Duration::from_secs(30);

/// The leader that node `url` knows, if it answers.
async fn leader_seen_by(url: &str) -> Option<u64> {
    raft_view(url).await.ok().and_then(|view| view.leader)
}

/// Polls the nodes at `urls` until one names a leader other than `old`; returns how long
/// after `since` that was first seen.
async fn new_leader_after(urls: Vec<String>, old: u64, since: Instant) -> Option<Duration> {
    let deadline = since + Duration::from_secs(30);
    while Instant::now() < deadline {
        for url in &urls {
            if leader_seen_by(url)
                .await
                .is_some_and(|leader| leader != old)
            {
                return Some(since.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    None
}

/// What a node logged about handing over (and the warnings beside it), for failure messages.
fn handover_log(path: &std::path::Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("hand") || line.contains("WARN"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_restart_of_the_store_fails_no_token_request() {
    let mut cluster = StoreCluster::start(3).await.expect("starting the store");
    for node in &cluster.nodes {
        node.wait_ready(READY_WITHIN).await.expect("store ready");
    }
    let config = deployment_config(&cluster, "load.yaml", "");
    let store = cluster.endpoints();
    let mut pods = Vec::new();
    for name in ["pod-1", "pod-2"] {
        let pod = SigilDev::start_pod(&cluster.dir(name), &config, &store)
            .await
            .expect("starting a pod");
        pods.push(pod);
    }
    let mut loads = Vec::new();
    for pod in &pods {
        let load = Load::start(load_plan(&pod.base_url, WORKERS))
            .await
            .expect("starting the load");
        loads.push(load);
    }
    for load in &loads {
        load.wait_for_progress(30, PROGRESS_WITHIN)
            .await
            .expect("load flowing before the rollout");
    }

    // Two rollouts in a row (a release, then a configuration change): the second finds the
    // leadership where the first left it, on a node restarted moments before.
    let mut handovers = Vec::new();
    for round in 1..=2 {
        // A StatefulSet rolls from the highest ordinal down.
        for index in (0..cluster.nodes.len()).rev() {
            let id = cluster.nodes[index].id;
            let others: Vec<String> = cluster
                .nodes
                .iter()
                .filter(|node| node.id != id)
                .map(|node| node.url.clone())
                .collect();
            let led = leader_seen_by(&cluster.nodes[index].url).await == Some(id);
            let stopping = Instant::now();
            let watch = led.then(|| tokio::spawn(new_leader_after(others.clone(), id, stopping)));
            let node = &mut cluster.nodes[index];
            let status =
                tokio::task::block_in_place(|| node.stop()).expect("stopping a store node");
            let exited = stopping.elapsed();
            assert!(status.success(), "store node {id} exited with {status}");
            if let Some(watch) = watch {
                // A leader hands over before it stops: when its process is gone, another node
                // already leads (without the handover, the others would only now start
                // waiting out the leader lease and an election timeout).
                let mut successors = Vec::new();
                for url in &others {
                    successors.extend(leader_seen_by(url).await.filter(|leader| *leader != id));
                }
                let elected = watch.await.expect("watching for the new leader");
                let elected = elected.expect("no new leader within 30 s");
                println!(
                    "round {round}: leader {id} stopped: another node led {} ms after SIGTERM; \
                     exited after {} ms",
                    elected.as_millis(),
                    exited.as_millis()
                );
                assert!(
                    !successors.is_empty(),
                    "leader {id} exited after {} ms with no successor; one led only {} ms after \
                     SIGTERM; its log says: {}",
                    exited.as_millis(),
                    elected.as_millis(),
                    handover_log(&node.log_path)
                );
                handovers.push(elected);
            } else {
                println!(
                    "round {round}: follower {id} stopped: exited after {} ms",
                    exited.as_millis()
                );
            }
            node.restart(&cluster.peers)
                .await
                .expect("restarting a store node");
            node.wait_ready(READY_WITHIN)
                .await
                .expect("restarted node ready");
            for load in &loads {
                load.wait_for_progress(20, PROGRESS_WITHIN)
                    .await
                    .expect("load flowing after a restart");
            }
        }
    }

    let mut failed = 0;
    let mut worst = Duration::ZERO;
    for (pod, load) in pods.iter().zip(loads) {
        let summary = load.stop().await.expect("stopping the load");
        println!("load on {}: {summary}", pod.base_url);
        failed += summary.failures.len();
        worst = worst.max(summary.worst_latency());
    }
    println!(
        "two rolling restarts of 3 store nodes: {failed} failed token requests, worst latency {} ms",
        worst.as_millis()
    );
    assert!(
        !handovers.is_empty(),
        "the rollout must have stopped the leader once"
    );
    assert_eq!(failed, 0, "token requests failed during the rollout");
}
