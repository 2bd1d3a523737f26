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

/// Retries UNAVAILABLE (not leader, no quorum, connection refused), DEADLINE_EXCEEDED, and
/// failures raised by the local transport (a connection reset mid-call). Everything else —
/// INTERNAL, INVALID_ARGUMENT and the rest — fails at once.
pub(crate) fn classify(status: &Status, leader_key: &str) -> Verdict {
    let retry = matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded)
        || from_transport(status);
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
