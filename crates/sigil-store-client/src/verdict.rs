//! Which failed attempts are worth another try, and where.

use std::error::Error as _;
use tonic::{Code, Status};

/// What to do after an attempt failed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The node could not serve it now; try again, at `leader` if the node named one.
    Retry {
        /// The leader's URL from the node's `sigil-leader` metadata, if present.
        leader: Option<String>,
    },
    /// A retry will not help.
    Fail,
}

/// Retries what a node answers when it cannot serve the call now (UNAVAILABLE: not the
/// leader, no quorum, stopping), what deadlines and HTTP/2 produce on the way, and failures
/// raised by the local transport (a connection reset mid-call):
/// - DEADLINE_EXCEEDED, and CANCELLED, which tonic answers when the attempt's `grpc-timeout`
///   expires on the node before the node decided (a leader cut off from its followers waits
///   for a commit that never comes);
/// - RESOURCE_EXHAUSTED (a GOAWAY with ENHANCE_YOUR_CALM) and UNKNOWN (a status that did not
///   come from a gRPC handler).
///
/// The store's handlers themselves answer only UNAVAILABLE, INVALID_ARGUMENT and INTERNAL, so
/// none of the retried codes is a decision of the store, and retrying is safe: every attempt
/// carries the call's request id. INTERNAL, INVALID_ARGUMENT and the rest fail at once.
pub(crate) fn classify(status: &Status, leader_key: &str) -> Verdict {
    let retry = matches!(
        status.code(),
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Cancelled
            | Code::ResourceExhausted
            | Code::Unknown
    ) || from_transport(status);
    if !retry {
        return Verdict::Fail;
    }
    let leader = status
        .metadata()
        .get(leader_key)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned);
    Verdict::Retry { leader }
}

/// Whether the node gave no answer in time: the attempt's deadline passed first (on either
/// side), or connecting timed out. Such a node costs a timeout per attempt, as in a
/// partition, so it is passed over for a while, across calls.
pub(crate) fn unanswered(status: &Status) -> bool {
    matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled)
        || has_io_error(status, std::io::ErrorKind::TimedOut)
}

/// Whether the attempt failed in the transport at once, without a timeout: the connection
/// was refused (nothing listens there, as while a store node restarts), reset or closed.
/// That costs a round trip, so such a node is passed over for the rest of the call only: when
/// it is back and named leader, the next call goes there at once.
pub(crate) fn failed_fast(status: &Status) -> bool {
    from_transport(status) && !unanswered(status)
}

fn has_io_error(status: &Status, kind: std::io::ErrorKind) -> bool {
    let mut source = status.source();
    while let Some(error) = source {
        if error
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == kind)
        {
            return true;
        }
        source = error.source();
    }
    false
}

/// A status carrying a transport error was made on this side of the wire: the request may
/// or may not have reached the node, which the request id makes safe to retry.
pub(crate) fn from_transport(status: &Status) -> bool {
    let mut source = status.source();
    while let Some(error) = source {
        if error.is::<tonic::transport::Error>() {
            return true;
        }
        source = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::metadata::MetadataValue;

    const KEY: &str = "sigil-leader";

    #[test]
    fn unavailable_with_a_hint_names_the_leader() {
        let mut status = Status::unavailable("not leader");
        status
            .metadata_mut()
            .insert(KEY, MetadataValue::from_static("http://b:7001"));
        assert_eq!(
            classify(&status, KEY),
            Verdict::Retry {
                leader: Some("http://b:7001".to_owned())
            }
        );
    }

    #[test]
    fn unavailable_and_deadline_are_retried_without_a_hint() {
        for status in [
            Status::unavailable("no quorum"),
            Status::deadline_exceeded("slow"),
        ] {
            assert_eq!(classify(&status, KEY), Verdict::Retry { leader: None });
        }
    }

    #[test]
    fn what_timeouts_and_http2_answer_is_retried() {
        // tonic's answer when the grpc-timeout expires on the node, and a GOAWAY's.
        for status in [
            Status::cancelled("Timeout expired"),
            Status::resource_exhausted("h2 protocol error: too_many_resets"),
            Status::unknown("no grpc-status"),
        ] {
            assert_eq!(classify(&status, KEY), Verdict::Retry { leader: None });
        }
        assert!(unanswered(&Status::cancelled("Timeout expired")));
        assert!(unanswered(&Status::deadline_exceeded("slow")));
        assert!(!unanswered(&Status::unavailable("not leader")));
    }

    #[test]
    fn a_connect_timeout_is_no_answer_and_a_refusal_is_one() {
        let with = |kind: std::io::ErrorKind| {
            let mut status = Status::unavailable("tcp connect error");
            status.set_source(std::sync::Arc::new(std::io::Error::from(kind)));
            status
        };
        assert!(unanswered(&with(std::io::ErrorKind::TimedOut)));
        assert!(!unanswered(&with(std::io::ErrorKind::ConnectionRefused)));
    }

    #[test]
    fn internal_and_invalid_argument_fail_at_once() {
        for status in [
            Status::internal("disk"),
            Status::invalid_argument("bad key"),
            Status::not_found("x"),
        ] {
            assert_eq!(classify(&status, KEY), Verdict::Fail);
        }
    }
}
