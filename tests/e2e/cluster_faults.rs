//! Faults under load: a 3-node store cluster, `sigil serve` pods in front of it, and a load
//! driver issuing, introspecting and revoking reference tokens through them.
//!
//! [`the_cluster_keeps_acknowledged_grants_through_faults`] puts every Raft link behind a
//! cuttable proxy and two pods behind a round-robin balancer. Phases: kill -9 the leader,
//! restart it, partition a follower, partition the leader, kill and restart every node. After
//! each: every acknowledged token is active unless its revocation was acknowledged, every
//! acknowledged revocation holds, and issuance resumed within [`MAX_UNAVAILABLE`] of the fault
//! (each window is printed: how long after the fault the first request sent after it was
//! answered). While a node is partitioned away, a pod that can reach only that node must fail
//! to issue, with `503 temporarily_unavailable` and `Retry-After`. While the killed leader is
//! down, the new leader logs no error for the reads that succeeded; restarted, the node
//! reports the term it stored and no snapshot it does not hold.
//!
//! [`healing_a_silent_partition_starts_no_election`] runs each node in its own network
//! namespace and partitions by dropping packets silently, then checks that healing the
//! partition does not make the cluster elect again.
//!
//! Throughout, an answer with a 5xx status other than 503, or a 503 without `Retry-After`, is a
//! failure: the store being unreachable is `temporarily_unavailable` (RFC 6749 §5.2), never
//! `server_error`.

use serde_json::Value;
use sigil_e2e::{API_SECRET, CLIENT_SECRET, pod_config, pod_with_new_key};
use sigil_testkit::SigilDev;
use sigil_testkit::client::{Answer, answer, basic, form};
use sigil_testkit::cluster::{metrics_text, raft_view, trigger_snapshot, write_signing_key};
use sigil_testkit::faults::isolated::IsolatedCluster;
use sigil_testkit::faults::{RoundRobinProxy, url_addr};
use sigil_testkit::proxied::ProxiedCluster;
use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest a phase may leave issuance unavailable.
const MAX_UNAVAILABLE: Duration = Duration::from_secs(10);
/// How long one HTTP call may take before the driver counts it as failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(8);
const LOAD_TASKS: usize = 3;

/// A token service as the driver sees it: a base URL, and the answers it should not have given.
#[derive(Clone)]
struct Pod {
    base: String,
    /// Answers with a 5xx other than 503, or a 503 without `Retry-After`.
    misanswers: Arc<Mutex<Vec<String>>>,
}

impl Pod {
    fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            misanswers: Arc::default(),
        }
    }

    /// POSTs a form; `None` if it failed or timed out. Records a misanswer.
    async fn post(&self, path: &str, authorization: &str, body: &str) -> Option<Answer> {
        let request = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", authorization)
            .body(body.to_owned());
        let call = async {
            let response = request.send().await.ok()?;
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            Some((retry_after, answer(response).await.ok()?))
        };
        let (retry_after, answer) = tokio::time::timeout(CALL_TIMEOUT, call).await.ok()??;
        let misanswer = match (answer.status, &retry_after) {
            (503, Some(seconds)) if seconds.parse::<u64>().is_ok() => None,
            (503, _) => Some(format!("503 with Retry-After {retry_after:?}")),
            (500..=599, _) => Some(format!("{}", answer.status)),
            _ => None,
        };
        if let Some(misanswer) = misanswer {
            self.misanswers
                .lock()
                .unwrap()
                .push(format!("{path}: {misanswer} {}", answer.body));
        }
        Some(answer)
    }

    async fn issue(&self) -> Option<String> {
        let answer = self
            .post(
                "/connect/token",
                &basic("ref-client", CLIENT_SECRET),
                "grant_type=client_credentials",
            )
            .await?;
        if answer.status != 200 {
            return None;
        }
        answer.body["access_token"].as_str().map(str::to_owned)
    }

    /// `Some(active)` if the introspection was answered.
    async fn introspect(&self, token: &str) -> Option<bool> {
        let answer = self
            .post(
                "/connect/introspect",
                &basic("https://orders.test", API_SECRET),
                &form(&[("token", token)]),
            )
            .await?;
        (answer.status == 200).then(|| answer.body["active"] == true)
    }

    async fn revoke(&self, token: &str) -> bool {
        self.post(
            "/connect/revocation",
            &basic("ref-client", CLIENT_SECRET),
            &form(&[("token", token)]),
        )
        .await
        .is_some_and(|answer| answer.status == 200)
    }

    /// Fails if any answer so far was a 5xx other than 503, or a 503 without `Retry-After`.
    fn assert_no_misanswers(&self, phase: &str) {
        let misanswers = self.misanswers.lock().unwrap();
        assert!(
            misanswers.is_empty(),
            "{phase}: {} answers were server errors rather than 503 + Retry-After: {:?}",
            misanswers.len(),
            *misanswers
        );
    }
}

/// What the load driver saw acknowledged.
#[derive(Default)]
struct Ledger {
    /// Tokens whose issuance was answered 200, with when the request was sent and answered.
    issued: Vec<(String, Instant, Instant)>,
    /// Tokens whose revocation was answered 200.
    revoked: HashSet<String>,
    /// Tokens chosen for revocation whose revocation is not acknowledged (yet): either state
    /// is correct.
    maybe_revoked: HashSet<String>,
}

struct Driver {
    pod: Pod,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Driver {
    fn start(pod: Pod) -> Self {
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = (0..LOAD_TASKS)
            .map(|task| {
                let (ledger, stop, pod) = (ledger.clone(), stop.clone(), pod.clone());
                tokio::spawn(async move {
                    let mut round = 0_usize;
                    while !stop.load(Ordering::Relaxed) {
                        round += 1;
                        let sent = Instant::now();
                        if let Some(token) = pod.issue().await {
                            let will_revoke = (round + task) % 3 == 0;
                            {
                                let mut ledger = ledger.lock().unwrap();
                                ledger.issued.push((token.clone(), sent, Instant::now()));
                                if will_revoke {
                                    // Either state is right until the revocation is answered.
                                    ledger.maybe_revoked.insert(token.clone());
                                }
                            }
                            // Read back through the balancer (any pod).
                            let _ = pod.introspect(&token).await;
                            if will_revoke && pod.revoke(&token).await {
                                let mut ledger = ledger.lock().unwrap();
                                ledger.maybe_revoked.remove(&token);
                                ledger.revoked.insert(token);
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                })
            })
            .collect();
        Self {
            pod,
            ledger,
            stop,
            tasks,
        }
    }

    /// The longest time between two acknowledged issuances answered in `from..to`.
    fn longest_gap(&self, from: Instant, to: Instant) -> Duration {
        let mut answered: Vec<Instant> = self
            .ledger
            .lock()
            .unwrap()
            .issued
            .iter()
            .map(|(_, _, answered)| *answered)
            .filter(|at| (from..to).contains(at))
            .collect();
        answered.sort();
        answered
            .windows(2)
            .map(|pair| pair[1] - pair[0])
            .max()
            .unwrap_or(to - from)
    }

    /// Waits until an issuance sent after `fault` is acknowledged; returns how long after the
    /// fault that was (the unavailability window, plus one request's latency).
    async fn first_success_after(&self, fault: Instant) -> Duration {
        let deadline = fault + MAX_UNAVAILABLE;
        loop {
            let first = self
                .ledger
                .lock()
                .unwrap()
                .issued
                .iter()
                .filter(|(_, sent, _)| *sent >= fault)
                .map(|(_, _, answered)| *answered)
                .min();
            if let Some(at) = first {
                return at - fault;
            }
            assert!(
                Instant::now() < deadline,
                "no token issued within {MAX_UNAVAILABLE:?} of the fault"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(self) -> Ledger {
        self.stop.store(true, Ordering::Relaxed);
        for task in self.tasks {
            task.await.unwrap();
        }
        Arc::try_unwrap(self.ledger)
            .ok()
            .unwrap()
            .into_inner()
            .unwrap()
    }
}

/// Every acknowledged token is active unless revoked; every acknowledged revocation holds.
/// Checks at most ~300 tokens (all revoked ones, a stride of the rest).
async fn check_ledger(driver: &Driver, phase: &str) {
    let (live, revoked) = {
        let ledger = driver.ledger.lock().unwrap();
        let live: Vec<String> = ledger
            .issued
            .iter()
            .map(|(token, _, _)| token)
            .filter(|t| !ledger.revoked.contains(*t) && !ledger.maybe_revoked.contains(*t))
            .cloned()
            .collect();
        let stride = live.len() / 200 + 1;
        let live = live.into_iter().step_by(stride).collect::<Vec<_>>();
        (live, ledger.revoked.iter().cloned().collect::<Vec<_>>())
    };
    assert!(!live.is_empty(), "{phase}: no token was issued");
    let expectations = live
        .iter()
        .map(|t| (t, true))
        .chain(revoked.iter().map(|t| (t, false)));
    let mut checked = 0;
    for (token, expected) in expectations {
        let mut seen = None;
        for _ in 0..20 {
            seen = driver.pod.introspect(token).await;
            if seen.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            seen,
            Some(expected),
            "{phase}: token {token} should be {}",
            if expected { "active" } else { "inactive" }
        );
        checked += 1;
    }
    println!(
        "{phase}: {checked} tokens checked ({} revoked)",
        revoked.len()
    );
    driver.pod.assert_no_misanswers(phase);
}

fn report(phase: &str, window: Duration) {
    println!("{phase}: unavailable for {} ms", window.as_millis());
    assert!(window < MAX_UNAVAILABLE, "{phase}: {window:?}");
}

/// The JSON log lines of a process at `level` whose message contains `text`.
fn log_lines(path: &Path, level: &str, text: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["level"] == level)
        .filter(|line| line["message"].as_str().is_some_and(|m| m.contains(text)))
        .collect()
}

/// The `sigil_store_raft_snapshot_index` sample, if the node reports one.
fn snapshot_index(metrics: &str) -> Option<f64> {
    sigil_testkit::cluster::metric_value(metrics, "sigil_store_raft_snapshot_index")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_keeps_acknowledged_grants_through_faults() {
    let started = Instant::now();
    let mut cluster = ProxiedCluster::start(3).await.unwrap();
    let keys = cluster.dir("keys");
    write_signing_key(&keys).unwrap();
    let config = pod_config(&keys);
    let mut pods: Vec<SigilDev> = Vec::new();
    for name in ["pod-a", "pod-b"] {
        pods.push(
            SigilDev::start_pod(&cluster.dir(name), &config, &cluster.endpoints())
                .await
                .unwrap(),
        );
    }
    let balancer = RoundRobinProxy::start(
        pods.iter()
            .map(|pod| url_addr(&pod.base_url).unwrap())
            .collect(),
    )
    .await
    .unwrap();
    let driver = Driver::start(Pod::new(&balancer.url()));
    let window = driver.first_success_after(Instant::now()).await;
    report("warm-up", window);

    // (a) kill -9 the leader, after it built a snapshot (for (b)).
    let leader = cluster.leader(Duration::from_secs(10)).await.unwrap();
    trigger_snapshot(&cluster.url(leader)).await.unwrap();
    let before = wait_for_snapshot(&cluster.url(leader)).await;
    let fault = Instant::now();
    cluster.kill(leader).unwrap();
    report("kill leader", driver.first_success_after(fault).await);
    check_ledger(&driver, "kill leader").await;
    // Every read of that check succeeded with one follower down: nothing to log as an error.
    let acting = cluster.leader(Duration::from_secs(10)).await.unwrap();
    let noise = log_lines(&cluster.log_path(acting), "ERROR", "confirming leadership");
    assert!(
        noise.is_empty(),
        "node {acting} logged {} errors for reads that succeeded, such as {}",
        noise.len(),
        noise[0]
    );

    // (b) restart it. From its first answer on, it reports what it stored (its term, and a
    // snapshot only if it holds one), never a placeholder.
    let fault = Instant::now();
    cluster.restart(leader).await.unwrap();
    let metrics = metrics_text(&cluster.url(leader)).await.unwrap();
    let term = raft_view(&cluster.url(leader)).await.unwrap().term;
    assert!(
        term >= before.term,
        "restarted node {leader} reports term {term}, it had term {} before",
        before.term
    );
    assert!(
        snapshot_index(&metrics).is_none_or(|index| index >= before.snapshot),
        "restarted node {leader} reports snapshot index {:?}, it had {} before",
        snapshot_index(&metrics),
        before.snapshot
    );
    report("restart", driver.first_success_after(fault).await);
    check_ledger(&driver, "restart").await;

    // (c) partition a follower. A pod that can reach only that node cannot write.
    let leader = cluster.leader(Duration::from_secs(10)).await.unwrap();
    let follower = cluster.ids().into_iter().find(|id| *id != leader).unwrap();
    let lonely = SigilDev::start_pod(&cluster.dir("pod-lonely"), &config, &cluster.url(follower))
        .await
        .unwrap();
    let lonely_pod = Pod::new(&lonely.base_url);
    let fault = Instant::now();
    cluster.partition(follower);
    report(
        "partition follower",
        driver.first_success_after(fault).await,
    );
    // The follower cannot write, but it may name the leader, which that pod can reach: then
    // the write is the leader's, and must hold like any other.
    if let Some(token) = lonely_pod.issue().await {
        assert_eq!(
            driver.pod.introspect(&token).await,
            Some(true),
            "a write acknowledged through the partitioned node {follower} did not hold"
        );
    }
    lonely_pod.assert_no_misanswers("pod behind the partitioned follower");
    cluster.heal_all();
    drop(lonely);
    check_ledger(&driver, "partition follower").await;

    // (d) partition the leader. The majority elects another; a pod that can reach only the
    // old leader cannot write, though that node believed itself leader when cut off.
    let leader = cluster.leader(Duration::from_secs(10)).await.unwrap();
    let stranded = SigilDev::start_pod(&cluster.dir("pod-stranded"), &config, &cluster.url(leader))
        .await
        .unwrap();
    let stranded_pod = Pod::new(&stranded.base_url);
    let fault = Instant::now();
    cluster.partition(leader);
    let (window, stranded_write) =
        tokio::join!(driver.first_success_after(fault), stranded_pod.issue());
    report("partition leader", window);
    assert_eq!(
        stranded_write, None,
        "a write through the partitioned old leader {leader} alone was acknowledged"
    );
    stranded_pod.assert_no_misanswers("pod behind the partitioned leader");
    cluster.heal_all();
    drop(stranded);
    check_ledger(&driver, "partition leader").await;

    // (e) kill every node, then start them again.
    let fault = Instant::now();
    for id in cluster.ids() {
        cluster.kill(id).unwrap();
    }
    for id in cluster.ids() {
        cluster.restart(id).await.unwrap();
    }
    report("full restart", driver.first_success_after(fault).await);
    check_ledger(&driver, "full restart").await;

    let ledger = driver.stop().await;
    println!(
        "{} tokens issued, {} revoked, {} revocations unacknowledged, {:.1} s in all",
        ledger.issued.len(),
        ledger.revoked.len(),
        ledger.maybe_revoked.len(),
        started.elapsed().as_secs_f64()
    );
}

/// A node's term and snapshot index once it reports a snapshot.
struct Reported {
    term: u64,
    snapshot: f64,
}

async fn wait_for_snapshot(url: &str) -> Reported {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = metrics_text(url).await.unwrap();
        if let Some(snapshot) = snapshot_index(&metrics).filter(|index| *index >= 0.0) {
            let term = raft_view(url).await.unwrap().term;
            return Reported { term, snapshot };
        }
        assert!(Instant::now() < deadline, "{url} built no snapshot");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The highest term any node reported, and the leaders the nodes named, while watching the
/// cluster for `duration`.
async fn watch_terms(cluster: &IsolatedCluster, duration: Duration) -> (u64, BTreeSet<u64>) {
    let until = Instant::now() + duration;
    let mut highest = 0;
    let mut leaders = BTreeSet::new();
    while Instant::now() < until {
        for view in cluster.views().await.values() {
            highest = highest.max(view.term);
            leaders.extend(view.leader);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (highest, leaders)
}

/// How long a partition lasts: several election timeouts, and long enough for TCP to back off
/// its retransmissions on connections that were open when it began.
const PARTITION: Duration = Duration::from_secs(4);
/// How long the cluster is watched after a heal.
const AFTER_HEAL: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healing_a_silent_partition_starts_no_election() {
    let cluster = IsolatedCluster::start(3)
        .await
        .expect("a cluster in network namespaces (this test must run as root)");
    let pod = pod_with_new_key(
        &cluster.dir("keys"),
        &cluster.dir("pod"),
        &cluster.endpoints(),
    )
    .await;
    let driver = Driver::start(Pod::new(&pod.base_url));
    report("warm-up", driver.first_success_after(Instant::now()).await);

    // A follower cut off: it must not campaign (a higher term would depose the leader on heal).
    let (leader, term) = cluster
        .leader_of(None, Duration::from_secs(10))
        .await
        .unwrap();
    let follower = cluster.ids().into_iter().find(|id| *id != leader).unwrap();
    cluster.cut(follower).unwrap();
    tokio::time::sleep(PARTITION).await;
    let cut_off = cluster.views().await.get(&follower).copied();
    let heal = Instant::now();
    cluster.heal().unwrap();
    let (highest, leaders) = watch_terms(&cluster, AFTER_HEAL).await;
    println!(
        "follower {follower} cut off from leader {leader} (term {term}): it reported {cut_off:?} \
         before the heal; after it, terms up to {highest}, leaders {leaders:?}"
    );
    report("heal follower", driver.first_success_after(heal).await);
    assert_eq!(
        (highest, leaders),
        (term, BTreeSet::from([leader])),
        "healing the follower's partition started an election"
    );

    // The leader cut off: the others elect a new one, and the heal must leave it in place.
    let cut_leader = leader;
    cluster.cut(cut_leader).unwrap();
    // Timed from when the cut is complete: requests sent while its `ip` commands ran may
    // still commit, and would make the election look instant.
    let cut = Instant::now();
    let others: Vec<u64> = cluster
        .ids()
        .into_iter()
        .filter(|id| *id != cut_leader)
        .collect();
    let (leader, term) = cluster
        .leader_of(Some(&others), Duration::from_secs(10))
        .await
        .unwrap();
    assert_ne!(leader, cut_leader);
    let election = driver.first_success_after(cut).await;
    report("cut leader", election);
    tokio::time::sleep(PARTITION).await;
    let heal = Instant::now();
    cluster.heal().unwrap();
    let (highest, leaders) = watch_terms(&cluster, AFTER_HEAL).await;
    let views = cluster.views().await;
    let pause = driver.longest_gap(heal, Instant::now());
    println!(
        "leader {cut_leader} cut off, {leader} elected in term {term}; after the heal, terms up \
         to {highest}, leaders {leaders:?}, now {views:?}; longest pause in issuance after the \
         heal {pause:?}"
    );
    report("heal leader", driver.first_success_after(heal).await);
    assert_eq!(
        highest, term,
        "healing the leader's partition started an election"
    );
    assert!(
        leaders
            .iter()
            .all(|named| *named == leader || *named == cut_leader),
        "after the heal the nodes named leaders {leaders:?}: the old leader may name itself \
         until it hears of the new one, nobody else may lead"
    );
    assert!(
        pause < election,
        "issuance paused for {pause:?} after the heal, as long as for the election ({election:?})"
    );
    let old = views.get(&cut_leader).copied();
    assert_eq!(
        old.map(|view| (view.term, view.leader)),
        Some((term, Some(leader))),
        "the old leader follows the new one after the heal"
    );
    check_ledger(&driver, "silent partitions").await;
    driver.stop().await;
}
