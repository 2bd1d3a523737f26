//! How patient the client is: deadlines, timeouts and backoff.

use std::time::Duration;

/// Tuning of a [`StoreClient`](crate::StoreClient). The defaults suit a store cluster on the
/// same network as the token service.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientOptions {
    /// How long one logical call (with all its retries) may take before it fails with
    /// [`StoreError::Unavailable`](sigil_core::store::StoreError::Unavailable). Default 5 s.
    pub request_timeout: Duration,
    /// How long one attempt at one node may take before the client tries again. Default 1 s.
    pub attempt_timeout: Duration,
    /// How long opening a TCP connection to a node may take. Default 500 ms.
    pub connect_timeout: Duration,
    /// The first pause between attempts when no node named a leader. Default 10 ms.
    pub backoff_initial: Duration,
    /// The longest pause between attempts; pauses double up to it. Default 200 ms.
    pub backoff_max: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_millis(500),
            backoff_initial: Duration::from_millis(10),
            backoff_max: Duration::from_millis(200),
        }
    }
}

impl ClientOptions {
    /// The defaults with another per-call deadline.
    pub fn with_request_timeout(mut self, request_timeout: Duration) -> Self {
        self.request_timeout = request_timeout;
        self
    }

    /// The defaults with another per-attempt timeout.
    pub fn with_attempt_timeout(mut self, attempt_timeout: Duration) -> Self {
        self.attempt_timeout = attempt_timeout;
        self
    }
}
