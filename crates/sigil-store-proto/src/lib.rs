//! The grant store's wire protocol, shared by the store nodes (`sigil store`) and their clients.
//!
//! Start with `proto/sigil/store/v1/store.proto` (the client API and its conventions). This
//! crate holds:
//! - [`v1`]: the messages and the gRPC client and server stubs generated from the three
//!   `.proto` files (`GrantStore`, `Raft`, `ClusterAdmin`), re-exported at the crate root;
//! - [`convert`]: conversions between those messages and sigil-core's store types, both ways;
//!   decoding checks lengths and enum values and returns a [`WireError`] for malformed input;
//! - [`LEADER_METADATA_KEY`]: the leader-hint convention.

pub mod convert;

/// Code generated from `proto/sigil/store/v1/*.proto`.
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used
)]
pub mod v1 {
    tonic::include_proto!("sigil.store.v1");
}

pub use convert::{WireError, request_id_from_wire};
pub use v1::*;

/// Response metadata key under which a node that is not the leader names the leader's URL
/// (with an UNAVAILABLE status), when it knows the leader.
pub const LEADER_METADATA_KEY: &str = "sigil-leader";

/// Length in bytes of every request's `request_id`.
pub const REQUEST_ID_LEN: usize = 16;
