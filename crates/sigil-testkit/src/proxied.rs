//! A store cluster whose Raft links all go through [`LinkProxy`]s, for partition tests.
//!
//! Start with [`ProxiedCluster::start`]: node `i` reaches node `j` through its own proxy for
//! the directed link `i → j` (its `--peers` map names the proxy), while clients reach every
//! node directly at [`NodeSet::url`]. [`ProxiedCluster::partition`] cuts every link to and
//! from one node; [`NodeSet::kill`] and [`ProxiedCluster::restart`] stop a node hard and bring
//! it back on the same address and data. [`ProxiedCluster::leader`] asks the cluster which
//! node leads.

use crate::cluster::free_port;
use crate::faults::LinkProxy;
use crate::node_set::NodeSet;
use crate::process::sigil_binary;
use anyhow::{Context as _, anyhow, bail};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// N store nodes, every directed link between them behind a [`LinkProxy`].
pub type ProxiedCluster = NodeSet<Proxies>;

/// How the nodes of a [`ProxiedCluster`] reach each other.
pub struct Proxies {
    /// Each node's `--peers` value.
    peers: BTreeMap<u64, String>,
    /// The proxy of each directed link `(from, to)`.
    links: BTreeMap<(u64, u64), LinkProxy>,
}

impl ProxiedCluster {
    /// Starts `size` nodes with a proxy on every directed link.
    pub async fn start(size: u64) -> crate::Result<Self> {
        let mut listen = BTreeMap::new();
        for id in 1..=size {
            listen.insert(id, format!("127.0.0.1:{}", free_port()?));
        }
        let mut links = BTreeMap::new();
        for from in 1..=size {
            for to in (1..=size).filter(|to| *to != from) {
                let target = listen
                    .get(&to)
                    .ok_or_else(|| anyhow!("no address for node {to}"))?
                    .parse()?;
                links.insert((from, to), LinkProxy::start(target).await?);
            }
        }
        let mut peers = BTreeMap::new();
        for from in 1..=size {
            let map = (1..=size)
                .map(|to| {
                    let url = match links.get(&(from, to)) {
                        Some(proxy) => proxy.url(),
                        None => format!("http://{}", listen.get(&to).cloned().unwrap_or_default()),
                    };
                    format!("{to}={url}")
                })
                .collect::<Vec<_>>()
                .join(",");
            peers.insert(from, map);
        }
        let mut cluster = Self::new(listen, Proxies { peers, links })?;
        for id in 1..=size {
            cluster.restart(id).await?;
        }
        Ok(cluster)
    }

    /// Starts node `id` again on its address and data directory (kills it first if running).
    pub async fn restart(&mut self, id: u64) -> crate::Result<()> {
        self.kill(id)?;
        let peers = self
            .net
            .peers
            .get(&id)
            .ok_or_else(|| anyhow!("no node {id}"))?
            .clone();
        // The port was free when picked and is released by a killed node at once; retry
        // briefly in case the kernel still holds it.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self
                .start_node(Command::new(sigil_binary()?), id, &peers)
                .await
            {
                Ok(()) => return Ok(()),
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Cuts every link to and from node `id`.
    pub fn partition(&self, id: u64) {
        for ((from, to), proxy) in &self.net.links {
            if *from == id || *to == id {
                proxy.cut();
            }
        }
    }

    /// Heals every link.
    pub fn heal_all(&self) {
        for proxy in self.net.links.values() {
            proxy.heal();
        }
    }

    /// The id of the leader as seen by node `via`, from `sigil cluster status --json`.
    pub async fn leader_seen_by(&self, via: u64) -> crate::Result<u64> {
        let url = self.url(via);
        let output = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::process::Command::new(sigil_binary()?)
                .args(["cluster", "status", "--store", &url, "--json"])
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .output(),
        )
        .await
        .context("cluster status timed out")??;
        if !output.status.success() {
            bail!(
                "cluster status via node {via} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let status: Value =
            serde_json::from_slice(&output.stdout).context("cluster status did not print JSON")?;
        leader_id(&status).ok_or_else(|| anyhow!("no leader in {status}"))
    }

    /// The leader that a majority of the running nodes agree on, waiting up to `within`.
    pub async fn leader(&self, within: Duration) -> crate::Result<u64> {
        let deadline = Instant::now() + within;
        loop {
            let mut votes: BTreeMap<u64, usize> = BTreeMap::new();
            for id in self.running() {
                if let Ok(leader) = self.leader_seen_by(id).await {
                    *votes.entry(leader).or_default() += 1;
                }
            }
            let majority = self.majority();
            if let Some((leader, _)) = votes.iter().find(|(_, count)| **count >= majority) {
                return Ok(*leader);
            }
            if Instant::now() > deadline {
                bail!("no leader agreed by a majority within {within:?}: {votes:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The leader id in a `cluster status` document: a `leader`, `leader_id` or `current_leader`
/// field holding a number or an object with an `id`.
fn leader_id(status: &Value) -> Option<u64> {
    ["leader", "leader_id", "current_leader"]
        .iter()
        .filter_map(|name| status.get(name))
        .find_map(|value| value.as_u64().or_else(|| value.get("id")?.as_u64()))
}

#[cfg(test)]
mod tests {
    use super::leader_id;
    use serde_json::json;

    #[test]
    fn leader_id_reads_the_usual_shapes() {
        assert_eq!(leader_id(&json!({"leader": 2})), Some(2));
        assert_eq!(leader_id(&json!({"leader_id": 3, "term": 4})), Some(3));
        assert_eq!(
            leader_id(&json!({"leader": {"id": 1, "addr": "x"}})),
            Some(1)
        );
        assert_eq!(leader_id(&json!({"leader": null})), None);
        assert_eq!(leader_id(&json!({"term": 1})), None);
    }
}
