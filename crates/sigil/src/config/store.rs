//! `store`: the grant store cluster's endpoints and request timeout, and the endpoint check
//! the command line shares.

use super::Issues;
use serde::Deserialize;
use std::time::Duration;

/// Where `sigil serve` finds the grant store cluster. Ignored by `sigil dev`, which embeds
/// its own store. `--store` / `SIGIL_STORE` override the endpoints.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The store nodes' URLs (`http://host:port`). Any node will do: the client follows the
    /// leader, even to a node not listed here.
    #[serde(default)]
    pub endpoints: Vec<String>,
    /// How long one store call may take, retries included. Default 5s.
    #[serde(default = "default_request_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            endpoints: Vec::new(),
            request_timeout: default_request_timeout(),
        }
    }
}

fn default_request_timeout() -> Duration {
    Duration::from_secs(5)
}

impl StoreConfig {
    pub(super) fn validate(&self, issues: &mut Issues) {
        for (index, endpoint) in self.endpoints.iter().enumerate() {
            if let Err(error) = check_endpoint(endpoint) {
                issues.push_error(format!("store.endpoints[{index}]"), &error);
            }
        }
        if self.request_timeout.is_zero() {
            issues.push("store.request_timeout", "must be longer than zero");
        }
    }
}

/// A store endpoint is an `http` or `https` URL with a host and a port, and nothing after it.
pub fn check_endpoint(endpoint: &str) -> Result<(), EndpointError> {
    let url = url::Url::parse(endpoint).map_err(EndpointError::NotUrl)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(EndpointError::Scheme);
    }
    if url.host_str().is_none() || url.port_or_known_default().is_none() {
        return Err(EndpointError::NoHostOrPort);
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return Err(EndpointError::TrailingParts);
    }
    Ok(())
}

/// Why a store endpoint is refused.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// Not a URL at all.
    #[error("not a URL")]
    NotUrl(#[source] url::ParseError),
    /// Neither http nor https.
    #[error("must be an http or https URL, such as http://store-0:7001")]
    Scheme,
    /// No host, or no port and none implied by the scheme.
    #[error("must name a host and port, such as http://store-0:7001")]
    NoHostOrPort,
    /// A path, query or fragment: the store's API paths are its own.
    #[error("must not have a path, query or fragment")]
    TrailingParts,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_must_be_plain_http_urls() {
        assert!(check_endpoint("http://store-0.store:7001").is_ok());
        assert!(check_endpoint("https://10.0.0.1:7001/").is_ok());
        assert!(check_endpoint("store-0:7001").is_err());
        assert!(check_endpoint("grpc://store-0:7001").is_err());
        assert!(check_endpoint("http://store-0:7001/v1").is_err());
        assert!(check_endpoint("not a url").is_err());
    }

    #[test]
    fn a_refused_endpoint_says_why_with_the_parser_s_reason() {
        let mut issues = Issues::default();
        for endpoint in ["not a url", "grpc://store-0:7001", "http://store-0:7001/v1"] {
            if let Err(error) = check_endpoint(endpoint) {
                issues.push_error("store.endpoints[0]", &error);
            }
        }
        let messages: Vec<&str> = issues
            .0
            .iter()
            .map(|issue| issue.message.as_str())
            .collect();
        assert_eq!(
            messages,
            [
                "not a URL: relative URL without a base",
                "must be an http or https URL, such as http://store-0:7001",
                "must not have a path, query or fragment",
            ]
        );
    }
}
