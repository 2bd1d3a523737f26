//! Time as data: the protocol core never reads the clock; callers pass `now` in.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Seconds since the Unix epoch, the resolution of every protocol timestamp (`iat`, `exp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The current wall-clock time. Only the outer layers (server, store proposer) call this.
    pub fn now() -> Self {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Self(since_epoch.as_secs())
    }

    /// Seconds since the epoch.
    pub fn as_secs(self) -> u64 {
        self.0
    }

    /// `self + lifetime`, saturating rather than overflowing.
    pub fn plus(self, lifetime: Duration) -> Self {
        Self(self.0.saturating_add(lifetime.as_secs()))
    }

    /// True once `self` is at or past `expiry`.
    pub fn reached(self, expiry: Timestamp) -> bool {
        self.0 >= expiry.0
    }
}
