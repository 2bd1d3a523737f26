//! Clusters of real processes: `sigil store` nodes, and `sigil serve` pods in front of them.
//!
//! Start with [`StoreCluster::start`] (N store nodes on loopback, each with its own data
//! directory), then [`SigilDev::start_pod`](crate::SigilDev::start_pod) for each token-service
//! replica, passing [`StoreCluster::endpoints`]. A pod is a [`SigilDev`](crate::SigilDev): the
//! same handle (`url`, `stop`,
//! `kill`, logs) whatever the command.

use crate::process::{open_log, read_announced_url, sigil_binary, terminate};
use anyhow::{Context as _, anyhow, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A running `sigil store` node.
pub struct StoreNode {
    child: Child,
    /// Its Raft node id (1-based).
    pub id: u64,
    /// `http://127.0.0.1:PORT`, the URL clients and peers use.
    pub url: String,
    /// Its data directory (kept after the process stops, for restarts).
    pub data_dir: PathBuf,
    /// Where its standard output (the JSON log lines) goes.
    pub log_path: PathBuf,
}

impl StoreNode {
    /// Starts node `id` listening on `listen`, with `peers` (`1=http://…,2=http://…`,
    /// itself included) and `data_dir` (created if missing, reused if it exists).
    pub async fn start(id: u64, listen: &str, peers: &str, data_dir: &Path) -> crate::Result<Self> {
        Self::start_with(Command::new(sigil_binary()?), id, listen, peers, data_dir).await
    }

    /// [`StoreNode::start`] through `launcher`: the `sigil` binary itself, or a command that
    /// runs it (such as `ip netns exec NAME sigil`, see [`crate::faults::netns`]); the
    /// `store` arguments are appended to it.
    pub async fn start_with(
        mut launcher: Command,
        id: u64,
        listen: &str,
        peers: &str,
        data_dir: &Path,
    ) -> crate::Result<Self> {
        let (log_path, log) = open_log(data_dir)?;
        let mut child = launcher
            .arg("store")
            .args([
                "--id",
                &id.to_string(),
                "--listen",
                listen,
                "--peers",
                peers,
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::piped())
            .spawn()
            .context("starting sigil store")?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| anyhow!("no stderr pipe"))?;
        let url = tokio::task::spawn_blocking(move || read_announced_url(stderr, "listening on"))
            .await??;
        Ok(Self {
            child,
            id,
            url,
            data_dir: data_dir.to_owned(),
            log_path,
        })
    }

    /// Stops the node with SIGTERM and waits up to 20 s for it to exit.
    pub fn stop(&mut self) -> crate::Result<std::process::ExitStatus> {
        terminate(&mut self.child, &format!("store node {}", self.id))
    }

    /// Kills the node with SIGKILL.
    pub fn kill(&mut self) -> crate::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Starts the node again on its address and data directory with `peers` (after
    /// [`StoreNode::stop`] or [`StoreNode::kill`]), as a StatefulSet restarts a pod.
    pub async fn restart(&mut self, peers: &str) -> crate::Result<()> {
        let listen = self.url.trim_start_matches("http://").to_owned();
        let data_dir = self.data_dir.clone();
        *self = Self::start(self.id, &listen, peers, &data_dir).await?;
        Ok(())
    }

    /// Waits up to `within` until the node's `/readyz` answers 200 (it knows a leader and has
    /// caught up with it), polling as a kubelet would, only faster.
    pub async fn wait_ready(&self, within: std::time::Duration) -> crate::Result<()> {
        let client = reqwest::Client::new();
        let deadline = std::time::Instant::now() + within;
        loop {
            let probe = client
                .get(format!("{}/readyz", self.url))
                .timeout(std::time::Duration::from_secs(1))
                .send()
                .await;
            if probe.is_ok_and(|answer| answer.status().is_success()) {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                bail!("store node {} was not ready within {within:?}", self.id);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

impl Drop for StoreNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// N store nodes on loopback that know each other, in a temporary directory.
pub struct StoreCluster {
    /// The nodes, by id order (node `i + 1` at index `i`).
    pub nodes: Vec<StoreNode>,
    /// The `--peers` value every node was started with.
    pub peers: String,
    temp: tempfile::TempDir,
}

impl StoreCluster {
    /// Starts `size` nodes. Ports are picked up front (every node must know every peer's
    /// address when it starts); the nodes elect a leader on their own.
    pub async fn start(size: u64) -> crate::Result<Self> {
        let temp = tempfile::tempdir().context("creating a cluster directory")?;
        let ports = (0..size)
            .map(|_| free_port())
            .collect::<crate::Result<Vec<_>>>()?;
        let peers = (1..=size)
            .zip(&ports)
            .map(|(id, port)| format!("{id}=http://127.0.0.1:{port}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut nodes = Vec::new();
        for (id, port) in (1..=size).zip(&ports) {
            let data_dir = temp.path().join(format!("store-{id}"));
            let listen = format!("127.0.0.1:{port}");
            nodes.push(StoreNode::start(id, &listen, &peers, &data_dir).await?);
        }
        Ok(Self { nodes, peers, temp })
    }

    /// The nodes' URLs, comma-separated: the value of `sigil serve --store`.
    pub fn endpoints(&self) -> String {
        self.nodes
            .iter()
            .map(|node| node.url.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// A directory inside the cluster's temporary directory (for pods' configs and logs).
    pub fn dir(&self, name: &str) -> PathBuf {
        self.temp.path().join(name)
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> crate::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Writes a fresh P-256 private key as `<dir>/signing.pem` (PKCS#8), for a `file` key source
/// shared by several pods (`algorithm: ES256`).
pub fn write_signing_key(dir: &Path) -> crate::Result<()> {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map_err(|_| anyhow!("generating a P-256 key"))?;
    let encoded = STANDARD.encode(pkcs8.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line)?);
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("signing.pem"), pem)?;
    Ok(())
}

/// What a store node's `/metrics` says about Raft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RaftView {
    /// `sigil_store_raft_term`.
    pub term: u64,
    /// `sigil_store_raft_leader_id`, absent (or negative) when the node knows no leader.
    pub leader: Option<u64>,
}

/// Reads [`RaftView`] from the node at `url` (`http://HOST:PORT`), waiting at most 2 s.
pub async fn raft_view(url: &str) -> crate::Result<RaftView> {
    parse_raft_view(&metrics_text(url).await?)
}

/// The `/metrics` exposition of the node at `url`, waiting at most 2 s.
pub async fn metrics_text(url: &str) -> crate::Result<String> {
    Ok(reqwest::Client::new()
        .get(format!("{url}/metrics"))
        .timeout(std::time::Duration::from_secs(2))
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?)
}

/// Has the node at `url` build a snapshot now (`sigil cluster snapshot`).
pub async fn trigger_snapshot(url: &str) -> crate::Result<()> {
    let output = tokio::process::Command::new(sigil_binary()?)
        .args(["cluster", "snapshot", "--store", url])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await?;
    if !output.status.success() {
        bail!(
            "cluster snapshot at {url} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// The value of the unlabelled sample `name` in a Prometheus text exposition.
pub fn metric_value(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (sample, value) = line.split_once(' ')?;
            (sample == name).then(|| value.trim().parse().ok())?
        })
}

fn parse_raft_view(text: &str) -> crate::Result<RaftView> {
    let term = metric_value(text, "sigil_store_raft_term")
        .ok_or_else(|| anyhow!("no sigil_store_raft_term in the metrics"))?;
    let leader = metric_value(text, "sigil_store_raft_leader_id")
        .filter(|id| *id >= 0.0)
        .map(|id| id as u64);
    Ok(RaftView {
        term: term as u64,
        leader,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raft_view_reads_term_and_leader() {
        let text = "# HELP sigil_store_raft_term x\nsigil_store_raft_term 4\n\
                    sigil_store_raft_leader_id 2\nsigil_store_raft_leader_id_x 9\n";
        assert_eq!(
            parse_raft_view(text).unwrap(),
            RaftView {
                term: 4,
                leader: Some(2)
            }
        );
        let text = "sigil_store_raft_term 4\nsigil_store_raft_leader_id -1\n";
        assert_eq!(parse_raft_view(text).unwrap().leader, None);
        assert_eq!(
            parse_raft_view("sigil_store_raft_term 0\n").unwrap().leader,
            None
        );
        assert!(parse_raft_view("").is_err());
    }
}
