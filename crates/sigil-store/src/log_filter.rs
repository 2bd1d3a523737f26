//! [`QuietReadChecks`]: a tracing layer that drops one misleading openraft log line.
//!
//! openraft 0.9 confirms each linearizable read by sending a heartbeat to every voter, and logs
//! `timeout while confirming leadership for read request` at ERROR for each voter that did not
//! answer, even when a quorum did and the read succeeded: while one follower is down, every
//! read batch logs an error about it. Whether a read's check failed is the read gate's to say
//! (it logs a check that did not reach a quorum, see [`crate::replica`]); the down follower
//! shows in the leader's replication log lines and metrics. The layer drops exactly that one
//! openraft event; install it in the process's subscriber (`sigil store` does).

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// Where openraft 0.9.25 logs the line, and how it starts.
const TARGET: &str = "openraft::core::raft_core";
const MESSAGE: &str = "timeout while confirming leadership for read request";

/// Drops openraft's per-voter "timeout while confirming leadership" errors; see the module.
#[derive(Debug, Clone, Copy, Default)]
pub struct QuietReadChecks;

impl<S: Subscriber> Layer<S> for QuietReadChecks {
    fn event_enabled(&self, event: &Event<'_>, _context: Context<'_, S>) -> bool {
        !is_read_check_miss(event)
    }
}

fn is_read_check_miss(event: &Event<'_>) -> bool {
    let metadata = event.metadata();
    if *metadata.level() != Level::ERROR || metadata.target() != TARGET {
        return false;
    }
    let mut message = MessageStart::default();
    event.record(&mut message);
    message.matches
}

/// Whether an event's `message` field is the read-check line.
#[derive(Default)]
struct MessageStart {
    matches: bool,
}

impl Visit for MessageStart {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.matches = format!("{value:?}").starts_with(MESSAGE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt as _;

    /// Records the message of every event that reaches it.
    #[derive(Clone, Default)]
    struct Recorded(Arc<Mutex<Vec<String>>>);

    impl<S: Subscriber> Layer<S> for Recorded {
        fn on_event(&self, event: &Event<'_>, _context: Context<'_, S>) {
            struct Message(String);
            impl Visit for Message {
                fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                    if field.name() == "message" {
                        self.0 = format!("{value:?}");
                    }
                }
            }
            let mut message = Message(String::new());
            event.record(&mut message);
            self.0.lock().unwrap().push(message.0);
        }
    }

    #[test]
    fn only_the_per_voter_read_check_error_is_dropped() {
        let recorded = Recorded::default();
        let subscriber = tracing_subscriber::registry()
            .with(recorded.clone())
            .with(QuietReadChecks);
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(
                target: "openraft::core::raft_core",
                target = 3,
                error = "NetworkError: connection refused",
                "timeout while confirming leadership for read request"
            );
            tracing::error!(target: "openraft::core::raft_core", "fail to join task: x");
            tracing::warn!(
                target: "openraft::core::raft_core",
                "timeout while confirming leadership for read request"
            );
            tracing::error!(target: "sigil_store", "timeout while confirming leadership for read request");
        });
        assert_eq!(
            *recorded.0.lock().unwrap(),
            [
                "fail to join task: x",
                "timeout while confirming leadership for read request",
                "timeout while confirming leadership for read request",
            ]
        );
    }
}
