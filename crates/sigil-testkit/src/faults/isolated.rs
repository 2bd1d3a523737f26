//! A store cluster whose nodes each run on their own [`Hosts`] host, for silent partitions.
//!
//! Start with [`IsolatedCluster::start`]: node `i` (1-based) runs `sigil store` inside host
//! `i - 1` and listens on that host's address; nodes reach each other, and the test process
//! reaches every node, through the hosts' bridge. [`IsolatedCluster::cut`] drops every packet
//! between one node and the others without closing anything; [`IsolatedCluster::heal`] lets
//! them through again. Clients in the test process keep reaching every node directly (see
//! [`NodeSet`]). [`IsolatedCluster::views`] reads each running node's term and leader from its
//! `/metrics`.

use super::netns::Hosts;
use crate::cluster::{RaftView, raft_view};
use crate::node_set::NodeSet;
use crate::process::sigil_binary;
use anyhow::{anyhow, bail};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The port every node listens on, each on its own host address.
const PORT: u16 = 7001;

/// N store nodes, one per network namespace.
pub type IsolatedCluster = NodeSet<Namespaces>;

/// How the nodes of an [`IsolatedCluster`] reach each other.
pub struct Namespaces {
    /// Every node's `--peers` value.
    peers: String,
    hosts: Hosts,
}

impl IsolatedCluster {
    /// Creates `size` hosts and starts one node on each; fails (never skips) without root.
    pub async fn start(size: u64) -> crate::Result<Self> {
        let count = usize::try_from(size)?;
        let hosts = Hosts::create(count)?;
        let listen = (1..=size)
            .zip(0..count)
            .map(|(id, host)| (id, format!("{}:{PORT}", hosts.ip(host))))
            .collect::<BTreeMap<_, _>>();
        let peers = listen
            .iter()
            .map(|(id, address)| format!("{id}=http://{address}"))
            .collect::<Vec<_>>()
            .join(",");
        let mut cluster = Self::new(listen, Namespaces { peers, hosts })?;
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

    /// Starts node `id` on its host and data directory (kills it first if running).
    pub async fn restart(&mut self, id: u64) -> crate::Result<()> {
        self.kill(id)?;
        let launcher = self.net.hosts.command(Self::host(id)?, &sigil_binary()?)?;
        let peers = self.net.peers.clone();
        self.start_node(launcher, id, &peers).await
    }

    /// Drops every packet between node `id` and the other nodes, silently.
    pub fn cut(&self, id: u64) -> crate::Result<()> {
        self.net.hosts.cut(Self::host(id)?)
    }

    /// Lets every packet through again.
    pub fn heal(&self) -> crate::Result<()> {
        self.net.hosts.heal()
    }

    /// What each running node's `/metrics` says now; nodes that did not answer are absent.
    pub async fn views(&self) -> BTreeMap<u64, RaftView> {
        let mut views = BTreeMap::new();
        for id in self.running() {
            if let Ok(view) = raft_view(&self.url(id)).await {
                views.insert(id, view);
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
        let majority = self.majority();
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
