//! `sigil store`: one node of the replicated grant store.
//!
//! The peer list comes from `--peers` or is derived from a StatefulSet's pod names; the node
//! with the lowest id creates the cluster when no node has one yet, the others wait for it.
//! Prints `Store node N listening on http://ADDR` once serving, then runs until SIGTERM or
//! Ctrl-C, when it hands its leadership over if it leads, stops serving and syncs its storage.

use crate::cli::StoreArgs;
use anyhow::{Context as _, anyhow, bail};
use sigil_store::cluster::{NodeOptions, StatefulSet, StoreNode, parse_peers};
use std::collections::BTreeMap;
use std::process::ExitCode;

/// Runs until interrupted.
pub fn run(args: StoreArgs) -> anyhow::Result<ExitCode> {
    let _logs = crate::logging::init(args.log_format);
    let options = node_options(&args, hostname().as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sigil-store")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let id = options.id;
        let node = StoreNode::start(options)
            .await
            .with_context(|| format!("starting store node {id}"))?;
        eprintln!(
            "Store node {id} listening on http://{}\n  advertised as {}",
            node.local_addr(),
            node.url()
        );
        stopped().await;
        tracing::info!(id, "store node stopping");
        node.stop().await.context("stopping the store node")
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The node's options from the flags; `hostname` names the pod when `--statefulset` is used.
fn node_options(args: &StoreArgs, hostname: Option<&str>) -> anyhow::Result<NodeOptions> {
    let (id, peers) = match (&args.statefulset, &args.peers) {
        (Some(spec), _) => {
            let set: StatefulSet = spec.parse()?;
            let id = match args.id {
                Some(id) => id,
                None => set.node_id(hostname.ok_or_else(|| {
                    anyhow!("--statefulset without --id needs the pod's hostname (HOSTNAME)")
                })?)?,
            };
            (id, set.peers())
        }
        (None, peers) => {
            let id = args
                .id
                .ok_or_else(|| anyhow!("--id is required unless --statefulset gives it"))?;
            let peers = match peers {
                Some(list) => parse_peers(list)?,
                None => BTreeMap::new(),
            };
            (id, peers)
        }
    };
    if !peers.is_empty() && !peers.contains_key(&id) && args.advertise.is_none() {
        bail!("node {id} is not in the peer list; add it there or pass --advertise");
    }
    let mut options = NodeOptions::new(id, args.listen, &args.data_dir);
    options.peers = peers;
    options.advertise.clone_from(&args.advertise);
    options.bootstrap = !args.join;
    Ok(options)
}

/// The pod's hostname: `HOSTNAME` (set in every Kubernetes container), else the kernel's.
fn hostname() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stopped() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot watch SIGTERM; stopping on Ctrl-C only");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::LogFormat;

    fn args() -> StoreArgs {
        StoreArgs {
            id: None,
            listen: "127.0.0.1:7001".parse().unwrap(),
            data_dir: "/tmp/store".into(),
            peers: None,
            statefulset: None,
            advertise: None,
            join: false,
            log_format: LogFormat::Json,
        }
    }

    #[test]
    fn a_static_peer_list_needs_an_id_in_it() {
        let mut args = args();
        args.peers = Some("1=http://a:7001,2=http://b:7001".into());
        assert!(node_options(&args, None).is_err(), "no id");
        args.id = Some(3);
        assert!(node_options(&args, None).is_err(), "id not among the peers");
        args.id = Some(2);
        let options = node_options(&args, None).unwrap();
        assert_eq!(options.id, 2);
        assert_eq!(options.peers.len(), 2);
        assert!(options.bootstrap);
    }

    #[test]
    fn a_statefulset_gives_the_id_from_the_hostname() {
        let mut args = args();
        args.statefulset = Some("sigil-store:3:sigil-store-nodes:7001".into());
        args.join = true;
        let options = node_options(&args, Some("sigil-store-1")).unwrap();
        assert_eq!(options.id, 1);
        assert_eq!(
            options.peers.get(&0).map(String::as_str),
            Some("http://sigil-store-0.sigil-store-nodes:7001")
        );
        assert!(!options.bootstrap);
        assert!(node_options(&args, Some("other-1")).is_err());
        assert!(node_options(&args, None).is_err());
    }
}
