//! Clusters of real processes: `sigil store` nodes, and `sigil serve` pods in front of them.
//!
//! Start with [`StoreCluster::start`] (N store nodes on loopback, each with its own data
//! directory), then [`serve_pod`] for each token-service replica, passing
//! [`StoreCluster::endpoints`]. A pod is a [`SigilDev`]: the same handle (`url`, `stop`,
//! `kill`, logs) whatever the command.

use crate::process::{SigilDev, open_log, read_announced_url, sigil_binary, terminate};
use anyhow::{Context as _, anyhow};
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
        let (log_path, log) = open_log(data_dir)?;
        let mut child = Command::new(sigil_binary()?)
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

/// Starts `sigil serve --config <dir>.yaml --store <store>` on a free loopback port, with
/// `config` written next to `dir` and the log at `<dir>.log`; returns once `/readyz` says
/// the pod reaches the store. `config` must set `server.issuer`: `sigil serve` refuses to
/// start without one (pods of one deployment share it).
pub async fn serve_pod(dir: &Path, config: &str, store: &str) -> crate::Result<SigilDev> {
    serve_pod_with_env(dir, config, store, &[]).await
}

/// [`serve_pod`] with extra environment variables (such as `KUBECONFIG`).
pub async fn serve_pod_with_env(
    dir: &Path,
    config: &str,
    store: &str,
    env: &[(&str, &str)],
) -> crate::Result<SigilDev> {
    let (log_path, log) = open_log(dir)?;
    let config_path = dir.with_extension("yaml");
    std::fs::write(&config_path, config)?;
    let mut command = Command::new(sigil_binary()?);
    command
        .arg("serve")
        .arg("--config")
        .arg(&config_path)
        .args(["--store", store, "--listen", "127.0.0.1:0"])
        .env_remove("SIGIL_LISTEN")
        .env_remove("SIGIL_ISSUER")
        .env_remove("SIGIL_CONFIG")
        .env_remove("SIGIL_STORE")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(Stdio::piped());
    SigilDev::spawn(command, dir, log_path).await
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
