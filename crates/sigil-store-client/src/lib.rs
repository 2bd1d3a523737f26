//! # sigil-store-client — the token service's view of a `sigil store` cluster
//!
//! Start with [`StoreClient::connect`]: give it the store nodes' URLs and [`ClientOptions`];
//! it returns at once (channels connect on first use) and implements sigil-core's
//! [`GrantStore`](sigil_core::store::GrantStore), so the protocol layer cannot tell it from the
//! embedded store.
//!
//! ## Guarantees
//!
//! - **Leader following.** Calls go to the node believed to be leader. A node that is not
//!   leader answers UNAVAILABLE, naming the leader in `sigil-leader` metadata when it knows it;
//!   the client switches there and retries at once (the leader may be a node that was not
//!   configured). Without a hint it tries the next node after an exponential, jittered pause
//!   (10 ms doubling to 200 ms by default).
//! - **Once-only writes.** Each logical call carries one random 16-byte request id, sent
//!   unchanged on every retry; the store applies a command once per id, so a retried consume,
//!   rotate or revoke after a timeout or a leader change does not take effect twice.
//! - **What is retried.** Every answer that is not a decision of the store: UNAVAILABLE (not
//!   the leader, a leader that lost its majority, stopping), DEADLINE_EXCEEDED, CANCELLED
//!   (what a node answers when the attempt's deadline expires there first, as on a leader cut
//!   off from its followers), RESOURCE_EXHAUSTED and UNKNOWN (from HTTP/2, not from a
//!   handler), and local transport failures. Reads are idempotent and writes carry the call's
//!   request id, so a retry is always safe. INTERNAL, INVALID_ARGUMENT and every other status
//!   fail at once as [`StoreError::Internal`](sigil_core::store::StoreError::Internal).
//! - **Bounded time.** A call gives up after [`ClientOptions::request_timeout`] (5 s by
//!   default) with [`StoreError::Unavailable`](sigil_core::store::StoreError::Unavailable)
//!   naming the nodes it tried (the token service answers it `503 temporarily_unavailable`
//!   with `Retry-After`); each attempt is bounded by [`ClientOptions::attempt_timeout`] (1 s).
//!   A node whose attempt or connection timed out is passed over by later attempts for a few
//!   seconds; one whose connection was refused or reset (a node restarting) only for the rest
//!   of the call, so that the client follows a hint to it as soon as it is back and leads. A leader that is stopping hands over and
//!   names its successor, so calls move there at once.
//! - **Connections.** One HTTP/2 channel per node, shared by all calls, with a connect
//!   timeout, TCP_NODELAY and keep-alive pings that close a connection gone silent within
//!   two seconds.
//!
//! The messages, stubs and conversions come from `sigil-store-proto`, shared with the store
//! nodes.
//!
//! Not here: the store itself (`sigil store`). Reading order: `client.rs` (the operations),
//! `call.rs` (the retry loop), `nodes.rs` (leader tracking), `verdict.rs` (what is retried).

mod backoff;
mod call;
mod client;
mod nodes;
mod options;
mod verdict;

#[cfg(test)]
mod tests;

pub use client::{ConnectError, StoreClient};
pub use nodes::EndpointError;
pub use options::ClientOptions;
