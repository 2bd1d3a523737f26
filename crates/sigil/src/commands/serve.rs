//! `sigil serve`: the token service against a `sigil store` cluster.
//!
//! Stateless: grants live in the cluster, keys come from a source shared by every replica, so
//! any number of replicas can run behind one load balancer. They must also share one issuer,
//! so it is required here: a replica that fell back to its own listen address would mint
//! tokens with an `iss` no other replica's clients expect.

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
    let issuer = required_issuer(args.issuer.clone(), config.server.issuer.clone())?;
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
        issuer: Some(issuer),
        store,
    };

    wiring::serve_until_stopped(settings, |summary| {
        eprintln!("{}", summary.banner("Sigil is serving."));
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The issuer from the flag if given, else from the file; there is no default.
fn required_issuer(flag: Option<String>, file: Option<String>) -> anyhow::Result<String> {
    flag.or(file).ok_or_else(|| {
        anyhow!(
            "no issuer: set server.issuer in the configuration (or pass --issuer / SIGIL_ISSUER) \
             to the URL clients reach this service at, such as https://login.example.com. \
             Every replica must mint tokens with the same `iss`, so `sigil serve` does not \
             derive it from its own listen address (only `sigil dev` does)"
        )
    })
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
        check_endpoint(endpoint).with_context(|| format!("store endpoint {endpoint}"))?;
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
    fn the_issuer_is_required_and_the_flag_overrides_the_file() {
        let url = |text: &str| Some(text.to_owned());
        assert_eq!(
            required_issuer(url("https://a"), url("https://b")).unwrap(),
            "https://a"
        );
        assert_eq!(
            required_issuer(None, url("https://b")).unwrap(),
            "https://b"
        );
        let error = required_issuer(None, None).unwrap_err().to_string();
        assert!(
            error.contains("server.issuer") && error.contains("--issuer"),
            "{error}"
        );
    }

    #[test]
    fn no_or_bad_endpoints_are_refused() {
        assert!(store_endpoints(&[], &[]).is_err());
        assert!(store_endpoints(&strings(&["a:1"]), &[]).is_err());
    }
}
