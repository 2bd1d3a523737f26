//! `server`: issuer, listen addresses, connection limits and shutdown timings, and the issuer
//! check the command line shares.

use super::Issues;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where and as whom the server runs. Each field can be overridden by a flag or a `SIGIL_*`
/// environment variable.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The issuer identifier. Required by `sigil serve`; `sigil dev` defaults to
    /// `http://<listen address>`.
    pub issuer: Option<String>,
    /// Address to listen on; defaults to 127.0.0.1:8080.
    pub listen: Option<SocketAddr>,
    /// Where keys and grant store data live; defaults to `./.sigil`.
    pub data_dir: Option<PathBuf>,
    /// A second listener for `/metrics`, `/healthz` and `/readyz`; with it, the main listener
    /// no longer serves `/metrics` (whose series name clients). Unset: all on `listen`.
    pub ops_listen: Option<SocketAddr>,
    /// How long slow or idle clients may hold a connection, and how many may.
    #[serde(default)]
    pub connections: ConnectionLimits,
    /// How the server stops on SIGTERM or SIGINT.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
}

/// Stopping without failing a request (`server.shutdown`): on SIGTERM or SIGINT `/readyz`
/// answers 503 at once while everything else is still served for `drain`, so that load
/// balancers probing readiness take the pod out of rotation first; then the listener closes
/// and requests in flight get `timeout` to finish. A second signal ends the drain early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownConfig {
    /// How long to keep serving, not ready, after the signal: at least the balancer's probe
    /// period times its failure threshold. Default 5s; 0s stops accepting at once.
    #[serde(default = "default_drain", with = "humantime_serde")]
    pub drain: Duration,
    /// How long requests in flight may take to finish once the listener has closed; the rest
    /// are cut. Whole seconds (rounded up). Default 10s.
    #[serde(default = "default_shutdown_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self {
            drain: default_drain(),
            timeout: default_shutdown_timeout(),
        }
    }
}

fn default_drain() -> Duration {
    Duration::from_secs(5)
}

fn default_shutdown_timeout() -> Duration {
    Duration::from_secs(10)
}

/// Bounds on what slow or idle clients can hold (`server.connections`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionLimits {
    /// The request head (line and headers) must arrive within this; else 408. Default 5s.
    #[serde(default = "default_header_timeout", with = "humantime_serde")]
    pub header_timeout: Duration,
    /// A form body must arrive within this once its head has; else 408 and the connection
    /// closes. Default 10s.
    #[serde(default = "default_body_timeout", with = "humantime_serde")]
    pub body_timeout: Duration,
    /// An idle keep-alive connection is closed after this; 0s closes after every response.
    /// Default 5s.
    #[serde(default = "default_keep_alive", with = "humantime_serde")]
    pub keep_alive: Duration,
    /// Open connections on the main listener, all workers together; more wait in the
    /// kernel's accept queue. Keep it below the process's file limit (`ulimit -n`) minus what
    /// the grant store and key files need. Default 4096.
    #[serde(default = "default_max_connections")]
    pub max: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: default_header_timeout(),
            body_timeout: default_body_timeout(),
            keep_alive: default_keep_alive(),
            max: default_max_connections(),
        }
    }
}

fn default_header_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_body_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_keep_alive() -> Duration {
    Duration::from_secs(5)
}

fn default_max_connections() -> usize {
    4096
}

impl ServerConfig {
    pub(super) fn validate(&self, issues: &mut Issues) {
        if let Some(issuer) = &self.issuer {
            if let Err(error) = check_issuer(issuer) {
                issues.push_error("server.issuer", &error);
            }
        }
        if let (Some(listen), Some(ops)) = (self.listen, self.ops_listen) {
            if listen == ops && listen.port() != 0 {
                issues.push(
                    "server.ops_listen",
                    "must differ from server.listen (leave it out to serve everything there)",
                );
            }
        }
        let limits = &self.connections;
        for (field, value) in [
            ("header_timeout", limits.header_timeout),
            ("body_timeout", limits.body_timeout),
        ] {
            if value.is_zero() {
                issues.push(
                    format!("server.connections.{field}"),
                    "must be longer than zero",
                );
            }
        }
        if limits.max == 0 {
            issues.push("server.connections.max", "must be at least 1");
        }
    }
}

/// An issuer is an http(s) URL without query or fragment (RFC 8414 §2).
pub fn check_issuer(issuer: &str) -> Result<(), IssuerError> {
    let url = url::Url::parse(issuer).map_err(IssuerError::NotUrl)?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(IssuerError::Scheme);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(IssuerError::QueryOrFragment);
    }
    if issuer.ends_with('/') {
        return Err(IssuerError::TrailingSlash);
    }
    Ok(())
}

/// Why an issuer is refused.
#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    /// Not a URL at all.
    #[error("not a URL")]
    NotUrl(#[source] url::ParseError),
    /// Neither https nor http.
    #[error("must be an https (or, for development, http) URL")]
    Scheme,
    /// A query or fragment, which RFC 8414 §2 forbids.
    #[error("must not have a query or fragment")]
    QueryOrFragment,
    /// A trailing slash, which would double in every endpoint address built from it.
    #[error("must not end with a slash")]
    TrailingSlash,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> ServerConfig {
        serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}: {e}"))
    }

    fn issue_paths(config: &ServerConfig) -> Vec<String> {
        Issues::found_by(|issues| config.validate(issues)).paths()
    }

    #[test]
    fn connection_limits_default_and_parse() {
        let defaults = parse("listen: 127.0.0.1:8080");
        assert_eq!(defaults.connections, ConnectionLimits::default());
        assert_eq!(defaults.ops_listen, None);
        let set = parse(
            "ops_listen: 0.0.0.0:9090\n\
             connections: { header_timeout: 2s, body_timeout: 1500ms, keep_alive: 0s, max: 64 }",
        );
        assert_eq!(set.ops_listen, Some("0.0.0.0:9090".parse().unwrap()));
        assert_eq!(
            set.connections,
            ConnectionLimits {
                header_timeout: Duration::from_secs(2),
                body_timeout: Duration::from_millis(1500),
                keep_alive: Duration::ZERO,
                max: 64,
            }
        );
        assert!(issue_paths(&set).is_empty());
    }

    #[test]
    fn shutdown_defaults_and_parses() {
        assert_eq!(
            parse("listen: 127.0.0.1:8080").shutdown,
            ShutdownConfig {
                drain: Duration::from_secs(5),
                timeout: Duration::from_secs(10),
            }
        );
        let set = parse("shutdown: { drain: 10s, timeout: 1500ms }");
        assert_eq!(
            set.shutdown,
            ShutdownConfig {
                drain: Duration::from_secs(10),
                timeout: Duration::from_millis(1500),
            }
        );
        assert_eq!(
            parse("shutdown: { drain: 0s }").shutdown.drain,
            Duration::ZERO
        );
        assert!(serde_yaml::from_str::<ServerConfig>("shutdown: { grace: 5s }").is_err());
        assert!(serde_yaml::from_str::<ServerConfig>("shutdown: { drain: soon }").is_err());
    }

    #[test]
    fn unknown_fields_and_useless_values_are_refused() {
        assert!(
            serde_yaml::from_str::<ServerConfig>("connections: { max_connections: 5 }").is_err()
        );
        let zero = parse(
            "listen: 127.0.0.1:8080\nops_listen: 127.0.0.1:8080\n\
             connections: { header_timeout: 0s, body_timeout: 0s, max: 0 }",
        );
        assert_eq!(
            issue_paths(&zero),
            [
                "server.ops_listen",
                "server.connections.header_timeout",
                "server.connections.body_timeout",
                "server.connections.max",
            ]
        );
    }
}
