//! `sigil serve`: the token service against a `sigil store` cluster.
//!
//! Stateless: grants live in the cluster, keys come from the `file` source shared by every
//! replica, so any number of replicas can run behind one load balancer.

use crate::cli::ServeArgs;
use crate::config::Config;
use crate::config::store::check_endpoint;
use crate::wiring::{self, ClusterSettings, Settings, StoreChoice};
use anyhow::{Context as _, anyhow, bail};
use std::net::SocketAddr;
use std::process::ExitCode;

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Runs until interrupted (Ctrl-C or SIGTERM).
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let _logs = crate::logging::init(args.log_format);
    let config = Config::load(&args.config)?;
    // Flags and SIGIL_* variables override the file; the file overrides defaults.
    let endpoints = store_endpoints(&args.store, &config.store.endpoints)?;
    let listen: SocketAddr = match args.listen.or(config.server.listen) {
        Some(listen) => listen,
        None => DEFAULT_LISTEN.parse().context("default listen address")?,
    };
    let store = StoreChoice::Cluster(ClusterSettings {
        endpoints,
        request_timeout: config.store.request_timeout,
    });
    let ops_listen = args.ops_listen.or(config.server.ops_listen);
    if ops_listen.is_none() {
        // Kept on one port by default so that a plain `sigil serve` needs no second port;
        // deployments behind an Ingress set it (deploy/sigil.example.yaml does).
        tracing::warn!(
            "/metrics (whose series name clients) is served on the public listener: \
             set server.ops_listen or --ops-listen to give it a listener of its own"
        );
    }
    let settings = Settings {
        config,
        config_path: args.config.clone(),
        listen,
        ops_listen,
        issuer: args.issuer.clone(),
        store,
    };

    wiring::serve_until_stopped(settings, |summary| {
        eprintln!("{}", summary.banner("Sigil is serving."));
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The endpoints from the flag if given, else from the file; at least one, each a URL.
pub(super) fn store_endpoints(flag: &[String], file: &[String]) -> anyhow::Result<Vec<String>> {
    let endpoints: Vec<String> = if flag.is_empty() { file } else { flag }
        .iter()
        .map(|endpoint| endpoint.trim().to_owned())
        .filter(|endpoint| !endpoint.is_empty())
        .collect();
    if endpoints.is_empty() {
        bail!(
            "no grant store: pass --store http://store-0:7001,... (or SIGIL_STORE), \
             or set store.endpoints in the configuration file"
        );
    }
    for endpoint in &endpoints {
        check_endpoint(endpoint)
            .map_err(|message| anyhow!("store endpoint {endpoint}: {message}"))?;
    }
    Ok(endpoints)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn the_flag_overrides_the_file() {
        let flag = strings(&["http://a:1", " http://b:1 "]);
        let file = strings(&["http://c:1"]);
        assert_eq!(
            store_endpoints(&flag, &file).unwrap(),
            strings(&["http://a:1", "http://b:1"])
        );
        assert_eq!(store_endpoints(&[], &file).unwrap(), file);
    }

    #[test]
    fn no_or_bad_endpoints_are_refused() {
        assert!(store_endpoints(&[], &[]).is_err());
        assert!(store_endpoints(&strings(&["a:1"]), &[]).is_err());
    }
}
