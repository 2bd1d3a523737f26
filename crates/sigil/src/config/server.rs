use super::Issues;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

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
}

impl ServerConfig {
    pub(super) fn validate(&self, issues: &mut Issues) {
        if let Some(issuer) = &self.issuer {
            if let Err(message) = check_issuer(issuer) {
                issues.push("server.issuer", message);
            }
        }
    }
}

/// An issuer is an http(s) URL without query or fragment (RFC 8414 §2).
pub fn check_issuer(issuer: &str) -> Result<(), String> {
    let url = url::Url::parse(issuer).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err("must be an https (or, for development, http) URL".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".to_owned());
    }
    if issuer.ends_with('/') {
        return Err("must not end with a slash".to_owned());
    }
    Ok(())
}
