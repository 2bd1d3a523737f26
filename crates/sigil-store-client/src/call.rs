//! One logical call: attempts at the believed leader until one answers or the deadline passes.

use crate::ClientOptions;
use crate::backoff::Backoff;
use crate::nodes::{Nodes, normalize};
use crate::verdict::{Verdict, classify, failed_fast, unanswered};
use sigil_core::store::StoreError;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;
use tonic::Status;
use tonic::transport::Channel;

/// 16 random bytes naming one logical call; every retry of it carries the same id, so the
/// store applies a write once however often it is retried.
pub(crate) type RequestId = [u8; 16];

/// A fresh request id.
pub(crate) fn new_request_id() -> RequestId {
    rand::random()
}

/// What one attempt is given.
pub(crate) struct Attempt {
    /// The URL of the node tried.
    pub(crate) url: String,
    /// The channel to the node tried.
    pub(crate) channel: Channel,
    /// How long the attempt may take (also sent as the gRPC deadline).
    pub(crate) timeout: Duration,
}

/// Runs `attempt` until it succeeds, fails for good, or `options.request_timeout` passes.
///
/// On UNAVAILABLE naming a leader, the next attempt goes to that leader at once (the second
/// and later hints in a row wait like any retry, so two confused nodes cannot make the client
/// spin). Without a hint the client moves to the next node and backs off. A node that gave no
/// answer in time (the attempt or the connection timed out) is passed over for a few seconds,
/// by this call and the next ones: hints naming it are not followed (the leader's advertised
/// address may be stale, or unreachable from the client) and moving on skips it, so the
/// round-robin over the configured nodes reaches the leader by the address the client was
/// given. A node whose attempt failed at once in the transport (the connection was refused or
/// reset: it is restarting, or its address means another host from here) is passed over the
/// same way for the rest of this call only: trying it again in the next call costs a round
/// trip, not a timeout, and once it is back and named leader the client must go there at
/// once.
pub(crate) async fn with_retries<T, F, Fut>(
    nodes: &Nodes,
    options: &ClientOptions,
    leader_key: &str,
    operation: &'static str,
    mut attempt: F,
) -> Result<T, StoreError>
where
    F: FnMut(Attempt) -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let deadline = Instant::now() + options.request_timeout;
    let mut backoff = Backoff::new(options.backoff_initial, options.backoff_max);
    let mut tried: Vec<String> = Vec::new();
    let mut last_error = String::from("no attempt made");
    let mut hints_in_a_row = 0_u32;
    // Nodes whose attempt failed at once in the transport (refused, reset) during this call.
    let mut failed_here: Vec<String> = Vec::new();
    loop {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let Some(node) = nodes.leader() else {
            return Err(StoreError::internal("grant store client has no endpoints"));
        };
        if !tried.contains(&node.url) {
            tried.push(node.url.clone());
        }
        let timeout = options.attempt_timeout.min(deadline - now);
        let outcome = tokio::time::timeout(
            timeout,
            attempt(Attempt {
                url: node.url.clone(),
                channel: node.channel.clone(),
                timeout,
            }),
        )
        .await;
        let (status, silent) = match outcome {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(status)) if failed_fast(&status) => {
                failed_here.push(node.url.clone());
                (status, false)
            }
            Ok(Err(status)) => {
                let silent = unanswered(&status);
                (status, silent)
            }
            Err(_elapsed) => (
                Status::deadline_exceeded(format!("no answer within {timeout:?}")),
                true,
            ),
        };
        let pause = match classify(&status, leader_key) {
            Verdict::Fail => {
                return Err(StoreError::internal(format!(
                    "{operation} at {}: {} ({:?})",
                    node.url,
                    status.message(),
                    status.code()
                )));
            }
            Verdict::Retry {
                leader: Some(leader),
            } if leader != node.url
                && !failed_here.contains(&normalize(&leader))
                && nodes.follow_hint(&leader) =>
            {
                tracing::debug!(operation, from = %node.url, to = %leader, "following the leader hint");
                hints_in_a_row += 1;
                (hints_in_a_row > 1).then(|| backoff.next_pause())
            }
            Verdict::Retry { .. } => {
                if silent {
                    // Unreachable or silent: for a while, hints naming it are not followed
                    // and moving on passes it over.
                    nodes.record_failure(&node.url);
                }
                hints_in_a_row = 0;
                nodes.advance_past(&node.url, &failed_here);
                Some(backoff.next_pause())
            }
        };
        tracing::debug!(operation, node = %node.url, code = ?status.code(), message = status.message(), "grant store attempt failed; retrying");
        last_error = format!("{}: {}", node.url, status.message());
        if let Some(pause) = pause {
            tokio::time::sleep_until((Instant::now() + pause).min(deadline)).await;
        }
    }
    Err(StoreError::unavailable(format!(
        "no leader answered {operation} within {} (tried {}; last error {last_error})",
        humanize(options.request_timeout),
        tried.join(", "),
    )))
}

fn humanize(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tonic::metadata::MetadataValue;

    const KEY: &str = "sigil-leader";

    fn nodes(urls: &[&str]) -> Nodes {
        let urls: Vec<String> = urls.iter().map(|u| (*u).to_owned()).collect();
        Nodes::new(&urls, &ClientOptions::default()).unwrap()
    }

    fn options(request_timeout_ms: u64) -> ClientOptions {
        ClientOptions::default()
            .with_request_timeout(Duration::from_millis(request_timeout_ms))
            .with_attempt_timeout(Duration::from_millis(50))
    }

    fn not_leader(hint: Option<&'static str>) -> Status {
        let mut status = Status::unavailable("not leader");
        if let Some(hint) = hint {
            status
                .metadata_mut()
                .insert(KEY, MetadataValue::from_static(hint));
        }
        status
    }

    /// Runs a call whose attempts answer by node URL, recording the URLs tried.
    async fn run(
        nodes: &Nodes,
        options: &ClientOptions,
        answer: impl Fn(&str) -> Result<u32, Status>,
    ) -> (Result<u32, StoreError>, Vec<String>) {
        let tried = Mutex::new(Vec::new());
        let result = with_retries(nodes, options, KEY, "test", |attempt| {
            tried.lock().unwrap().push(attempt.url.clone());
            let answer = answer(&attempt.url);
            async move { answer }
        })
        .await;
        (result, tried.into_inner().unwrap())
    }

    #[tokio::test]
    async fn a_leader_hint_is_followed_even_outside_the_configured_nodes() {
        let nodes = nodes(&["http://a:1", "http://b:1"]);
        let (result, tried) = run(&nodes, &options(1000), |url| match url {
            "http://c:1" => Ok(7),
            _ => Err(not_leader(Some("http://c:1"))),
        })
        .await;
        assert_eq!(result.unwrap(), 7);
        assert_eq!(tried, ["http://a:1", "http://c:1"]);
        // The next call goes straight to the leader.
        let (_, tried) = run(&nodes, &options(1000), |_| Ok(1)).await;
        assert_eq!(tried, ["http://c:1"]);
    }

    #[tokio::test]
    async fn without_a_hint_the_next_node_is_tried() {
        let nodes = nodes(&["http://a:1", "http://b:1", "http://c:1"]);
        let (result, tried) = run(&nodes, &options(1000), |url| match url {
            "http://c:1" => Ok(3),
            _ => Err(not_leader(None)),
        })
        .await;
        assert_eq!(result.unwrap(), 3);
        assert_eq!(tried, ["http://a:1", "http://b:1", "http://c:1"]);
    }

    #[tokio::test]
    async fn a_non_retryable_status_fails_after_one_attempt() {
        let nodes = nodes(&["http://a:1", "http://b:1"]);
        let (result, tried) = run(&nodes, &options(1000), |_| {
            Err(Status::invalid_argument("key must be 32 bytes"))
        })
        .await;
        match result {
            Err(StoreError::Internal {
                detail: message, ..
            }) => {
                assert!(message.contains("key must be 32 bytes"), "{message}")
            }
            other => panic!("expected Internal, got {other:?}"),
        }
        assert_eq!(tried, ["http://a:1"]);
    }

    #[tokio::test]
    async fn no_leader_within_the_deadline_is_unavailable_naming_the_nodes_tried() {
        let nodes = nodes(&["http://a:1", "http://b:1"]);
        let started = Instant::now();
        let (result, tried) = run(&nodes, &options(300), |_| Err(not_leader(None))).await;
        let elapsed = started.elapsed();
        match result {
            Err(StoreError::Unavailable {
                detail: message, ..
            }) => {
                assert!(message.contains("within 300ms"), "{message}");
                assert!(
                    message.contains("tried http://a:1, http://b:1"),
                    "{message}"
                );
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
        assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
        // Backoff keeps the attempts few: 10, 20, 40, 80, 160, 200 ms pauses at most.
        assert!(tried.len() >= 3 && tried.len() <= 12, "{}", tried.len());
    }

    #[tokio::test]
    async fn two_nodes_naming_each_other_do_not_make_the_client_spin() {
        let nodes = nodes(&["http://a:1", "http://b:1"]);
        let (result, tried) = run(&nodes, &options(300), |url| match url {
            "http://a:1" => Err(not_leader(Some("http://b:1"))),
            _ => Err(not_leader(Some("http://a:1"))),
        })
        .await;
        assert!(matches!(result, Err(StoreError::Unavailable { .. })));
        assert!(tried.len() <= 12, "{} attempts in 300ms", tried.len());
    }

    /// A call where a and b name an unreachable leader address and c is the leader.
    async fn behind_an_unreachable_hint(nodes: &Nodes) -> (Result<u32, StoreError>, Vec<String>) {
        let tried = Mutex::new(Vec::new());
        let result = with_retries(nodes, &options(2000), KEY, "test", |attempt| {
            tried.lock().unwrap().push(attempt.url.clone());
            let url = attempt.url.clone();
            async move {
                match url.as_str() {
                    "http://c:1" => Ok(9),
                    "http://unreachable:1" => {
                        tokio::time::sleep(Duration::from_secs(10)).await;
                        Ok(0)
                    }
                    _ => Err(not_leader(Some("http://unreachable:1"))),
                }
            }
        })
        .await;
        (result, tried.into_inner().unwrap())
    }

    #[tokio::test]
    async fn a_hint_to_an_unreachable_address_does_not_trap_the_client() {
        // The followers name the leader by an address this client cannot reach (it never
        // answers); the leader is also configured under the address the client was given.
        let nodes = nodes(&["http://a:1", "http://b:1", "http://c:1"]);
        let (result, tried) = behind_an_unreachable_hint(&nodes).await;
        assert_eq!(result.unwrap(), 9);
        assert_eq!(
            tried,
            [
                "http://a:1",
                "http://unreachable:1",
                "http://a:1",
                "http://b:1",
                "http://c:1"
            ]
        );
        // The next call starts at the leader found.
        let (_, tried) = behind_an_unreachable_hint(&nodes).await;
        assert_eq!(tried, ["http://c:1"]);
    }

    #[tokio::test]
    async fn a_slow_attempt_is_cut_off_and_retried_elsewhere() {
        let nodes = nodes(&["http://a:1", "http://b:1"]);
        let tried = Mutex::new(Vec::new());
        let result = with_retries(&nodes, &options(1000), KEY, "test", |attempt| {
            tried.lock().unwrap().push(attempt.url.clone());
            let slow = attempt.url == "http://a:1";
            async move {
                if slow {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                }
                Ok::<_, Status>(2)
            }
        })
        .await;
        assert_eq!(result.unwrap(), 2);
        assert_eq!(*tried.lock().unwrap(), ["http://a:1", "http://b:1"]);
    }
}
