//! The store nodes the client knows and the one it believes is leader.
//!
//! Starts with the configured endpoints; a leader named by the cluster is added even if it was
//! not configured (it came from the cluster itself). Each node has one lazily connected HTTP/2
//! channel, reused by every call.

use crate::ClientOptions;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;
use tonic::transport::{Channel, Endpoint};

/// Nodes learned from hints beyond the configured ones are capped, so a misbehaving node
/// cannot grow the list without bound.
const MAX_LEARNED_NODES: usize = 16;

/// How long a node that failed an attempt without naming a leader is passed over: hints
/// naming it are not followed, and moving on skips it while another node is left to try.
const PASS_OVER: Duration = Duration::from_secs(3);

/// A connection that has received nothing for this long is pinged.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(1);
/// A ping unanswered for this long closes the connection.
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(1);

/// One store node.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Its URL, as configured or as hinted (`http://host:port`, no trailing slash).
    pub(crate) url: String,
    /// A channel to it; cheap to clone.
    pub(crate) channel: Channel,
}

/// The known nodes and the index of the believed leader.
#[derive(Debug)]
pub(crate) struct Nodes {
    state: Mutex<State>,
    configured: usize,
    options: ClientOptions,
}

#[derive(Debug)]
struct State {
    nodes: Vec<Node>,
    leader: usize,
    /// Nodes that recently failed an attempt without naming a leader, and when.
    failed: Vec<(String, Instant)>,
}

impl State {
    fn failed_recently(&self, url: &str) -> bool {
        self.failed
            .iter()
            .any(|(failed, at)| failed == url && at.elapsed() < PASS_OVER)
    }
}

/// Why an endpoint could not be used.
#[derive(Debug, thiserror::Error)]
#[error("store endpoint {url:?}: {source}")]
pub struct EndpointError {
    url: String,
    #[source]
    source: tonic::transport::Error,
}

impl Nodes {
    /// Channels to every endpoint; none is connected until first used.
    pub(crate) fn new(urls: &[String], options: &ClientOptions) -> Result<Self, EndpointError> {
        let nodes = urls
            .iter()
            .map(|url| node(url, options))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            configured: nodes.len(),
            state: Mutex::new(State {
                nodes,
                leader: 0,
                failed: Vec::new(),
            }),
            options: options.clone(),
        })
    }

    /// The node to send the next attempt to.
    pub(crate) fn leader(&self) -> Option<Node> {
        let state = self.lock();
        state.nodes.get(state.leader).cloned()
    }

    /// Moves on to the node after `failed` (unless another call already moved on), passing
    /// over nodes that failed recently, and those in `skip`, while another is left.
    pub(crate) fn advance_past(&self, failed: &str, skip: &[String]) {
        let mut state = self.lock();
        let count = state.nodes.len();
        if count == 0 {
            return;
        }
        let current = state.nodes.get(state.leader).map(|n| n.url.as_str());
        if current != Some(failed) {
            return;
        }
        let start = state.leader;
        for step in 1..=count {
            let candidate = (start + step) % count;
            let passed_over = state
                .nodes
                .get(candidate)
                .is_some_and(|n| state.failed_recently(&n.url) || skip.contains(&n.url));
            if !passed_over || step == count {
                state.leader = if passed_over {
                    (start + 1) % count
                } else {
                    candidate
                };
                return;
            }
        }
    }

    /// Records that `url` failed an attempt without naming a leader.
    pub(crate) fn record_failure(&self, url: &str) {
        let mut state = self.lock();
        state
            .failed
            .retain(|(failed, at)| failed != url && at.elapsed() < PASS_OVER);
        state.failed.push((url.to_owned(), Instant::now()));
    }

    /// Makes the hinted node the leader, adding it if unknown. Returns `false` (and changes
    /// nothing) if the hint is unusable or names a node that failed recently.
    pub(crate) fn follow_hint(&self, hint: &str) -> bool {
        let hint = normalize(hint);
        let mut state = self.lock();
        if state.failed_recently(&hint) {
            // Stale, or unreachable from here: the round-robin over the configured nodes
            // reaches the leader by the address the client was given.
            return false;
        }
        if let Some(index) = state.nodes.iter().position(|n| n.url == hint) {
            state.leader = index;
            return true;
        }
        let Ok(new) = node(&hint, &self.options) else {
            tracing::warn!(hint = %hint, "grant store named an unusable leader address");
            return false;
        };
        if state.nodes.len() >= self.configured + MAX_LEARNED_NODES {
            // Forget the oldest learned node; configured ones stay.
            state.nodes.remove(self.configured);
        }
        state.nodes.push(new);
        state.leader = state.nodes.len() - 1;
        true
    }

    /// The configured endpoints, for messages.
    pub(crate) fn configured_urls(&self) -> Vec<String> {
        let state = self.lock();
        state
            .nodes
            .iter()
            .take(self.configured)
            .map(|n| n.url.clone())
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is always consistent between statements, so a poisoned lock is usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn node(url: &str, options: &ClientOptions) -> Result<Node, EndpointError> {
    let url = normalize(url);
    let endpoint = Endpoint::from_shared(url.clone())
        .map_err(|source| EndpointError {
            url: url.clone(),
            source,
        })?
        .connect_timeout(options.connect_timeout)
        .tcp_nodelay(true)
        // A connection that goes silent (a partition that drops packets leaves it open, with
        // TCP backing off for seconds) is closed within two seconds, so that calls after the
        // partition heals get a fresh one instead of waiting out the backoff.
        .http2_keep_alive_interval(KEEPALIVE_INTERVAL)
        .keep_alive_timeout(KEEPALIVE_TIMEOUT)
        .keep_alive_while_idle(true);
    Ok(Node {
        channel: endpoint.connect_lazy(),
        url,
    })
}

/// `host:port` becomes `http://host:port`; a trailing slash is dropped, so a hint and a
/// configured endpoint for the same node compare equal.
pub(crate) fn normalize(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(urls: &[&str]) -> Nodes {
        let urls: Vec<String> = urls.iter().map(|u| (*u).to_owned()).collect();
        Nodes::new(&urls, &ClientOptions::default()).unwrap()
    }

    #[tokio::test]
    async fn advancing_cycles_through_the_configured_nodes() {
        let nodes = nodes(&["http://a:1", "http://b:1/"]);
        assert_eq!(nodes.leader().unwrap().url, "http://a:1");
        nodes.advance_past("http://a:1", &[]);
        assert_eq!(nodes.leader().unwrap().url, "http://b:1");
        // A stale failure report (another call already moved on) changes nothing.
        nodes.advance_past("http://a:1", &[]);
        assert_eq!(nodes.leader().unwrap().url, "http://b:1");
        nodes.advance_past("http://b:1", &[]);
        assert_eq!(nodes.leader().unwrap().url, "http://a:1");
    }

    #[tokio::test]
    async fn a_node_that_gave_no_answer_is_passed_over_for_a_while() {
        let nodes = nodes(&["http://a:1", "http://b:1", "http://c:1"]);
        nodes.record_failure("http://b:1");
        nodes.advance_past("http://a:1", &[]);
        assert_eq!(nodes.leader().unwrap().url, "http://c:1");
        assert!(
            !nodes.follow_hint("http://b:1"),
            "a hint naming it is not followed"
        );
        // With every other node passed over too, moving on still moves.
        nodes.record_failure("http://a:1");
        nodes.record_failure("http://c:1");
        nodes.advance_past("http://c:1", &[]);
        assert_eq!(nodes.leader().unwrap().url, "http://a:1");
    }

    #[tokio::test]
    async fn a_hint_selects_a_known_node_or_adds_a_new_one() {
        let nodes = nodes(&["http://a:1", "b:1"]);
        assert!(nodes.follow_hint("http://b:1/"));
        assert_eq!(nodes.leader().unwrap().url, "http://b:1");
        assert!(nodes.follow_hint("http://c:1"));
        assert_eq!(nodes.leader().unwrap().url, "http://c:1");
        assert_eq!(nodes.configured_urls(), ["http://a:1", "http://b:1"]);
        assert!(!nodes.follow_hint("http://bad host:1"));
        assert_eq!(nodes.leader().unwrap().url, "http://c:1");
    }

    #[test]
    fn a_bad_endpoint_is_refused() {
        let urls = vec!["http://bad host:1".to_owned()];
        assert!(Nodes::new(&urls, &ClientOptions::default()).is_err());
    }
}
