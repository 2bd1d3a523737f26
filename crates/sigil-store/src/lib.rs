//! Sigil's grant store: the replicated state machine that holds authorization codes, refresh
//! tokens, reference tokens and revocations, its Raft log store (openraft 0.9 over sled 0.34),
//! and the embedded single-node mode that `sigil dev` runs.
//!
//! # Where to start reading
//!
//! - [`types`]: the commands ([`Command`]), the [`Proposal`]s that carry them with an optional
//!   [`RequestId`], the batched [`Request`] a proposer appends as one log entry, and the
//!   [`Response`]s applying them returns, plus openraft's type configuration.
//! - `commands` (private): what `Put`, `Consume`, `Revoke`, `Rotate` and `Expire` do, and how
//!   request ids are remembered. This is the store's whole behaviour, written as pure
//!   functions of the trees and the request.
//! - [`replica`]: [`Replica`], what every node serves from: the proposer (`proposer`, which
//!   batches concurrent writes into one log entry) and the read gate (`read_gate`, which shares
//!   one leadership check among concurrent linearizable reads) over a [`GrantReader`].
//! - [`node`]: [`open_node`], the startup shared by the embedded store and cluster nodes.
//! - [`state_machine`]: openraft's state-machine and snapshot traits over the grant trees
//!   (`grant_trees`: grants by key, the family, subject, client and expiry indexes, rotation
//!   records and remembered request ids).
//! - [`log_store`]: openraft's log-store trait: log entries, vote, purge marker.
//! - [`cluster`]: [`cluster::StoreNode`], a `sigil store` cluster node (Raft over gRPC, with a
//!   pre-vote in front of openraft's elections, and a leader that hands its leadership over
//!   before it stops).
//! - [`log_filter`]: a tracing layer for the process that drops one misleading openraft error.
//! - [`embedded`]: [`EmbeddedStore`], a one-node group with a [`Replica`] and the expiry
//!   sweeper, implementing [`sigil_core::store::GrantStore`].
//!
//! # Guarantees
//!
//! - **Determinism.** `apply` never reads the clock: the proposer stamps `now` into each
//!   request, so every replica computes the same grants and responses from the same log.
//! - **Atomic batches.** Each applied entry commits the writes of all its proposals, their
//!   index changes and the applied log id in one sled transaction; a crash never leaves an
//!   index out of step. Proposals in one entry apply in order, each seeing the writes of the
//!   ones before it (two consumes of one key in one batch: `Consumed`, then
//!   `AlreadyConsumed`).
//! - **Expiry.** A grant is gone once `now` reaches its `expires_at`: commands treat it as
//!   absent and reads never return it, before the background sweep removes it.
//! - **Durability.** A write is acknowledged only after its log entry is on disk. The log
//!   store tells openraft an append is flushed, and returns from saving a vote, only after
//!   sled's `flush()` *and* an `fsync` of sled's database file (and of any new blob file sled
//!   wrote beside it). sled's flush alone is not relied on: on Linux it is `sync_file_range`,
//!   which leaves file metadata and the drive's write cache unsynced. The state machine is
//!   synced with the next log sync and before each snapshot is reported, so the log behind a
//!   snapshot is purged only once the state it produced is durable; if a crash loses recent
//!   applies, Raft applies them again from the log, with the same results. All of this
//!   assumes the file system and the drive honour `fsync`.
//! - **Batching.** The proposer puts every proposal waiting at a moment (up to
//!   [`ReplicaOptions::max_batch`]) into one log entry, with up to two entries replicating at
//!   once: concurrent writes share one append and one `fsync`.
//! - **Retries.** A write that fails as unavailable (for example, timed out) may still be
//!   applied later. Proposals that carry a [`RequestId`] are idempotent: the state machine
//!   remembers each applied id and its response for [`types::DEDUPE_WINDOW_SECS`] (in
//!   snapshots too, so a new leader remembers them), and a retry returns the first response
//!   without applying again. Without an id, a retried consume can see its own earlier success
//!   as `AlreadyConsumed`.
//! - **Linearizable reads.** [`Replica`] reads only after a leadership check that started
//!   after the read arrived and once this node has applied up to the read point.
//! - **Bounded disk.** A snapshot is built every few thousand entries and the log behind it is
//!   purged; expired grants and request ids older than the window are swept.
//!
//! # Not here (deliberately)
//!
//! - No protocol logic: what a grant means, token formats and rotation policy belong to
//!   `sigil-core`; the store applies the rotation command it is given (with its grace period)
//!   and detects reuse atomically.
//! - No in-memory variant: `sigil dev` and tests run this same code on disk.

pub mod cluster;
mod codec;
mod commands;
mod disk;
pub mod embedded;
mod error;
mod grant_trees;
pub mod log_filter;
pub mod log_store;
pub mod network;
pub mod node;
mod proposer;
mod read_gate;
pub mod reader;
pub mod replica;
pub mod state_machine;
mod sweeper;
pub mod types;

#[cfg(test)]
mod tests;

pub use embedded::{EmbeddedOptions, EmbeddedStore};
pub use log_store::LogStore;
pub use node::{OpenNode, StorageHandle, open_node};
pub use reader::GrantReader;
pub use replica::{Replica, ReplicaOptions};
pub use state_machine::{SnapshotBuilder, StateMachine};
pub use types::{Command, NodeId, Proposal, Request, RequestId, Response, StoreRaft, TypeConfig};

use std::path::Path;

/// Opens (creating if needed) the log store and state machine kept in `dir`, for a Raft node
/// that brings its own network and configuration. The embedded store uses the same pair.
pub fn open_storage(dir: &Path) -> std::io::Result<(LogStore, StateMachine)> {
    let disk = disk::Disk::open(dir)?;
    let log_store = LogStore::open(std::sync::Arc::clone(&disk))?;
    let state_machine = StateMachine::open(disk)?;
    Ok((log_store, state_machine))
}
