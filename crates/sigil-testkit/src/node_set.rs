//! Store nodes that a test kills and starts again on the same address and data: what the
//! partition harnesses share. [`crate::proxied::ProxiedCluster`] and
//! [`crate::faults::isolated::IsolatedCluster`] are each a [`NodeSet`] over their own way of
//! wiring the nodes together (link proxies, network namespaces), which also says how a node
//! is launched and how the links are cut.

use crate::cluster::StoreNode;
use anyhow::{Context as _, anyhow};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

/// Store nodes by id, running or killed, in one temporary directory, wired by `N`.
pub struct NodeSet<N> {
    /// The running nodes by id; a killed node is absent until started again.
    running: BTreeMap<u64, StoreNode>,
    /// Each node's listen address `HOST:PORT`, where clients reach it directly.
    listen: BTreeMap<u64, String>,
    temp: tempfile::TempDir,
    /// How the nodes reach each other. Dropped last: after the processes that use it.
    pub(crate) net: N,
}

impl<N> NodeSet<N> {
    /// Nodes listening on `listen` (by id) and wired by `net`, none running yet.
    pub(crate) fn new(listen: BTreeMap<u64, String>, net: N) -> crate::Result<Self> {
        Ok(Self {
            running: BTreeMap::new(),
            listen,
            temp: tempfile::tempdir().context("creating a cluster directory")?,
            net,
        })
    }

    /// The ids of all nodes, running or not.
    pub fn ids(&self) -> Vec<u64> {
        self.listen.keys().copied().collect()
    }

    /// The ids of the running nodes.
    pub fn running(&self) -> Vec<u64> {
        self.running.keys().copied().collect()
    }

    /// How many nodes make a majority of all of them.
    pub fn majority(&self) -> usize {
        self.listen.len() / 2 + 1
    }

    /// `http://HOST:PORT` of node `id`, as clients reach it.
    pub fn url(&self, id: u64) -> String {
        format!(
            "http://{}",
            self.listen.get(&id).map(String::as_str).unwrap_or("")
        )
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
        self.dir(&format!("store-{id}"))
    }

    /// Kills node `id` with SIGKILL (no-op if it is not running).
    pub fn kill(&mut self, id: u64) -> crate::Result<()> {
        if let Some(mut node) = self.running.remove(&id) {
            node.kill()?;
        }
        Ok(())
    }

    /// Starts node `id` through `launcher` (see [`StoreNode::start_with`]) with `peers`, on
    /// its address and data directory. The caller kills it first if it is running.
    pub(crate) async fn start_node(
        &mut self,
        launcher: Command,
        id: u64,
        peers: &str,
    ) -> crate::Result<()> {
        let listen = self
            .listen
            .get(&id)
            .ok_or_else(|| anyhow!("no node {id}"))?;
        let node = StoreNode::start_with(launcher, id, listen, peers, &self.data_dir(id)).await?;
        self.running.insert(id, node);
        Ok(())
    }
}
