//! Rolling restarts of token pods under load: three `sigil serve` pods on one store cluster
//! and one key source, behind a balancer that (like a Kubernetes Service) takes a pod out of
//! rotation only once its `/readyz` probe fails. Every pod is stopped with SIGTERM, waited
//! for, and started again (on a new port, as a new pod gets a new address) while workers keep
//! asking for JWT and reference access tokens and rotating refresh tokens through the
//! balancer: not one request may fail.

use sigil_e2e::{deployment_config, load_plan};
use sigil_testkit::SigilDev;
use sigil_testkit::balancer::{Balancer, ProbeOptions};
use sigil_testkit::cluster::StoreCluster;
use sigil_testkit::faults::url_addr;
use sigil_testkit::load::{Kind, Load};
use std::time::{Duration, Instant};

/// Pods, their store cluster and the balancer in front of them.
struct Deployment {
    cluster: StoreCluster,
    config: String,
    pods: Vec<SigilDev>,
    balancer: Balancer,
}

/// `pods` pods on a three-node store cluster, configured with `configs/load.yaml` and
/// `extra` (YAML appended to it), keys from `sigil keys generate`, behind a balancer probing
/// every second.
async fn deploy(pods: usize, extra: &str) -> Deployment {
    let cluster = StoreCluster::start(3).await.unwrap();
    let config = deployment_config(&cluster, "load.yaml", extra);
    let mut started = Vec::new();
    for index in 0..pods {
        let dir = cluster.dir(&format!("pod-{index}"));
        started.push(
            SigilDev::start_pod(&dir, &config, &cluster.endpoints())
                .await
                .unwrap(),
        );
    }
    let addrs: Vec<_> = started
        .iter()
        .map(|pod| url_addr(&pod.base_url).unwrap())
        .collect();
    let balancer = Balancer::start(&addrs, ProbeOptions::default())
        .await
        .unwrap();
    assert_eq!(balancer.in_rotation().len(), pods);
    Deployment {
        cluster,
        config,
        pods: started,
        balancer,
    }
}

impl Deployment {
    /// Stops pod `index` with SIGTERM, waits for it to exit (0), starts it again and waits
    /// until the balancer has it back in rotation. Returns how long the old pod took to exit
    /// and the new one to answer `/readyz` 200.
    async fn restart(&mut self, index: usize) -> (Duration, Duration) {
        let mut pod = self.pods.remove(index);
        let old = url_addr(&pod.base_url).unwrap();
        let began = Instant::now();
        let (pod, status) = tokio::task::spawn_blocking(move || {
            let status = pod.stop();
            (pod, status)
        })
        .await
        .unwrap();
        let exited = began.elapsed();
        let status = status.unwrap();
        assert!(status.success(), "pod {index} exited with {status}");
        drop(pod);
        let dir = self.cluster.dir(&format!("pod-{index}"));
        let starting = Instant::now();
        let new_pod = SigilDev::start_pod(&dir, &self.config, &self.cluster.endpoints())
            .await
            .unwrap();
        let ready = starting.elapsed();
        let new = url_addr(&new_pod.base_url).unwrap();
        self.balancer.replace(old, new).unwrap();
        self.balancer
            .wait_in_rotation(new, Duration::from_secs(10))
            .await
            .unwrap();
        self.pods.insert(index, new_pod);
        (exited, ready)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarting_every_pod_under_load_fails_no_request() {
    let mut deployment = deploy(3, "").await;
    let load = Load::start(load_plan(&deployment.balancer.url(), 6))
        .await
        .unwrap();
    load.wait_for_progress(30, Duration::from_secs(30))
        .await
        .unwrap();
    for index in 0..deployment.pods.len() {
        let (exited, ready) = deployment.restart(index).await;
        eprintln!(
            "pod {index} exited {} ms after SIGTERM; its successor was ready {} ms after start",
            exited.as_millis(),
            ready.as_millis()
        );
        load.wait_for_progress(30, Duration::from_secs(30))
            .await
            .unwrap();
    }
    let summary = load.stop().await.unwrap();
    eprintln!("rolling restart of 3 pods: {summary}");
    for kind in [Kind::JwtAccessToken, Kind::ReferenceToken, Kind::Refresh] {
        assert!(
            summary.completed.get(&kind).copied().unwrap_or(0) > 0,
            "no {kind} request completed: {summary}"
        );
    }
    assert!(summary.failures.is_empty(), "{summary}");
}
