//! A store cluster whose nodes each run on their own [`Hosts`] host, for silent partitions.
//!
//! Start with [`IsolatedCluster::start`]: node `i` (1-based) runs `sigil store` inside host
//! `i - 1` and listens on that host's address; nodes reach each other, and the test process
//! reaches every node, through the hosts' bridge. [`IsolatedCluster::cut`] drops every packet
//! between one node and the others without closing anything; [`IsolatedCluster::heal`] lets
//! them through again. Clients in the test process keep reaching every node directly.
//! [`IsolatedCluster::views`] reads each running node's term and leader from its `/metrics`.

use super::netns::Hosts;
use crate::cluster::{RaftView, StoreNode, raft_view};
use crate::process::sigil_binary;
use anyhow::{Context as _, anyhow, bail};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The port every node listens on, each on its own host address.
const PORT: u16 = 7001;

/// N store nodes, one per network namespace.
pub struct IsolatedCluster {
    /// The running nodes by id; a killed node is absent until restarted.
    nodes: BTreeMap<u64, StoreNode>,
    peers: String,
    temp: tempfile::TempDir,
    // Dropped last: the namespaces go once the processes in them are gone.
    hosts: Hosts,
}

impl IsolatedCluster {
    /// Creates `size` hosts and starts one node on each; fails (never skips) without root.
    pub async fn start(size: u64) -> crate::Result<Self> {
        let count = usize::try_from(size)?;
        let hosts = Hosts::create(count)?;
        let temp = tempfile::tempdir().context("creating a cluster directory")?;
        let peers = (0..count)
            .map(|index| format!("{}=http://{}:{PORT}", index + 1, hosts.ip(index)))
            .collect::<Vec<_>>()
            .join(",");
        let mut cluster = Self {
            nodes: BTreeMap::new(),
            peers,
            temp,
            hosts,
        };
        for id in 1..=size {
            cluster.restart(id).await?;
        }
        Ok(cluster)
    }

    fn host(id: u64) -> crate::Result<usize> {
        let id = usize::try_from(id)?;
        id.checked_sub(1)
            .ok_or_else(|| anyhow!("node ids start at 1"))
    }

    /// The ids of all nodes, running or not.
    pub fn ids(&self) -> Vec<u64> {
        (1..=self.hosts.len() as u64).collect()
    }

    /// `http://ADDR:PORT` of node `id`, as clients and peers reach it.
    pub fn url(&self, id: u64) -> String {
        let address =
            Self::host(id).map_or(std::net::Ipv4Addr::UNSPECIFIED, |host| self.hosts.ip(host));
        format!("http://{address}:{PORT}")
    }

    /// Every node's URL, comma-separated: the value of `sigil serve --store`.
    pub fn endpoints(&self) -> String {
        self.ids()
            .into_iter()
            .map(|id| self.url(id))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// A directory inside the cluster's temporary directory (for pods' configs and logs).
    pub fn dir(&self, name: &str) -> PathBuf {
        self.temp.path().join(name)
    }

    /// Where node `id`'s log lines go.
    pub fn log_path(&self, id: u64) -> PathBuf {
        self.data_dir(id).with_extension("log")
    }

    fn data_dir(&self, id: u64) -> PathBuf {
        self.temp.path().join(format!("store-{id}"))
    }

    /// Kills node `id` with SIGKILL (no-op if it is not running).
    pub fn kill(&mut self, id: u64) -> crate::Result<()> {
        if let Some(mut node) = self.nodes.remove(&id) {
            node.kill()?;
        }
        Ok(())
    }

    /// Starts node `id` on its host and data directory (kills it first if running).
    pub async fn restart(&mut self, id: u64) -> crate::Result<()> {
        self.kill(id)?;
        let host = Self::host(id)?;
        let launcher = self.hosts.command(host, &sigil_binary()?)?;
        let listen = format!("{}:{PORT}", self.hosts.ip(host));
        let node =
            StoreNode::start_with(launcher, id, &listen, &self.peers, &self.data_dir(id)).await?;
        self.nodes.insert(id, node);
        Ok(())
    }

    /// Drops every packet between node `id` and the other nodes, silently.
    pub fn cut(&self, id: u64) -> crate::Result<()> {
        self.hosts.cut(Self::host(id)?)
    }

    /// Lets every packet through again.
    pub fn heal(&self) -> crate::Result<()> {
        self.hosts.heal()
    }

    /// What each running node's `/metrics` says now; nodes that did not answer are absent.
    pub async fn views(&self) -> BTreeMap<u64, RaftView> {
        let mut views = BTreeMap::new();
        for id in self.nodes.keys() {
            if let Ok(view) = raft_view(&self.url(*id)).await {
                views.insert(*id, view);
            }
        }
        views
    }

    /// The leader that a majority of all nodes agree on, with its term, waiting up to
    /// `within`. With `among`, only those nodes' views count and the leader must be one of
    /// them (the side of a partition that can elect).
    pub async fn leader_of(
        &self,
        among: Option<&[u64]>,
        within: Duration,
    ) -> crate::Result<(u64, u64)> {
        let deadline = Instant::now() + within;
        let majority = self.hosts.len() / 2 + 1;
        loop {
            let views = self.views().await;
            let mut votes: BTreeMap<(u64, u64), usize> = BTreeMap::new();
            for (id, view) in &views {
                if among.is_some_and(|ids| !ids.contains(id)) {
                    continue;
                }
                let leader = view
                    .leader
                    .filter(|leader| among.is_none_or(|ids| ids.contains(leader)));
                if let Some(leader) = leader {
                    *votes.entry((leader, view.term)).or_default() += 1;
                }
            }
            if let Some((agreed, _)) = votes.iter().find(|(_, count)| **count >= majority) {
                return Ok(*agreed);
            }
            if Instant::now() > deadline {
                bail!("no leader agreed by a majority within {within:?}: {views:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
