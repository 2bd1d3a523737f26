//! Sigil's grant store: the replicated state machine that holds authorization codes, refresh
//! tokens, reference tokens and revocations, its Raft log store (openraft 0.9 over sled 0.34),
//! and the embedded single-node mode that `sigil dev` runs.
//!
//! # Where to start reading
//!
//! - [`types`]: the commands ([`Command`]) a proposer stamps with its clock ([`Request`]) and
//!   the [`Response`]s applying them returns, plus openraft's type configuration.
//! - `commands` (private): what `Put`, `Consume`, `Revoke` and `Expire` do. This is the
//!   store's whole behaviour, written as pure functions of the committed trees and the request.
//! - [`state_machine`]: openraft's state-machine and snapshot traits over the grant trees
//!   (`grant_trees`: grants by key and the family, subject, client and expiry indexes).
//! - [`log_store`]: openraft's log-store trait: log entries, vote, purge marker.
//! - [`embedded`]: [`EmbeddedStore`], which wires them into a one-node Raft group and implements
//!   [`sigil_core::store::GrantStore`].
//!
//! # Guarantees
//!
//! - **Determinism.** `apply` never reads the clock: the proposer stamps `now` into each
//!   request, so every replica computes the same grants and responses from the same log.
//! - **Atomic indexes.** Each applied entry commits its grant changes, index changes and the
//!   applied log id in one sled transaction; a crash never leaves an index out of step.
//! - **Expiry.** A grant is gone once `now` reaches its `expires_at`: commands treat it as
//!   absent and [`EmbeddedStore`] never returns it, before the background sweep removes it.
//! - **Durability.** A write is acknowledged only after its log entry is on disk. The log
//!   store tells openraft an append is flushed, and returns from saving a vote, only after
//!   sled's `flush()` *and* an `fsync` of sled's database file (and of any new blob file sled
//!   wrote beside it). sled's flush alone is not relied on: on Linux it is `sync_file_range`,
//!   which leaves file metadata and the drive's write cache unsynced. openraft 0.9 appends each
//!   proposal on its own and waits for its sync before taking the next, so every write costs
//!   one `fsync`; concurrent writes do not share one yet. The state machine is synced with the
//!   next log sync and before each snapshot is reported, so the log behind a snapshot is purged
//!   only once the state it produced is durable; if a crash loses recent applies, Raft applies
//!   them again from the log, with the same results. All of this assumes the file system and
//!   the drive honour `fsync`.
//! - **Retries.** A write that fails as unavailable (for example, timed out) may still be
//!   applied later; until requests carry ids, a retried consume can see its own earlier
//!   success as `AlreadyConsumed`.
//! - **Bounded disk.** A snapshot is built every few thousand entries and the log behind it is
//!   purged; expired grants are swept.
//!
//! # Not here (deliberately)
//!
//! - No protocol logic: what a grant means, token formats, rotation policy and reuse detection
//!   belong to `sigil-core`; the store only stores and applies commands.
//! - No network yet: the embedded group has no peers ([`network::SingleNodeNetwork`]). The gRPC
//!   client API (`proto/sigil/store/v1/store.proto`) and Raft RPC for `sigil store` come later,
//!   as do request ids for idempotent retries and the `Rotate` command.
//! - No in-memory variant: `sigil dev` and tests run this same code on disk.

mod codec;
mod commands;
mod disk;
pub mod embedded;
mod error;
mod grant_trees;
pub mod log_store;
pub mod network;
pub mod state_machine;
mod sweeper;
pub mod types;

#[cfg(test)]
mod tests;

pub use embedded::{EmbeddedOptions, EmbeddedStore};
pub use log_store::LogStore;
pub use state_machine::{SnapshotBuilder, StateMachine};
pub use types::{Command, NodeId, Request, Response, TypeConfig};

use std::path::Path;

/// Opens (creating if needed) the log store and state machine kept in `dir`, for a Raft node
/// that brings its own network and configuration. The embedded store uses the same pair.
pub fn open_storage(dir: &Path) -> std::io::Result<(LogStore, StateMachine)> {
    let disk = disk::Disk::open(dir)?;
    let log_store = LogStore::open(std::sync::Arc::clone(&disk))?;
    let state_machine = StateMachine::open(disk)?;
    Ok((log_store, state_machine))
}
