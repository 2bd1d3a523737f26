//! The `sigil store` cluster node: Raft over gRPC and the services a node serves.
//!
//! Start with [`StoreNode::start`] ([`node`]), which wires the rest together:
//! - [`network`]: [`GrpcNetwork`], openraft's network over the `Raft` gRPC service;
//! - [`raft_service`]: the receiving end of those RPCs;
//! - [`grant_service`]: the client API (`GrantStore` of `store.proto`) over a [`crate::Replica`];
//! - [`admin_service`]: `ClusterAdmin` (status, add/remove member, snapshot);
//! - [`handover`]: a leader that stops hands its leadership to an up-to-date voter first;
//! - [`leader`]: the leader hint a follower answers with (UNAVAILABLE + `sigil-leader`), and
//!   the refusal of a leader that has lost its majority;
//! - [`pre_vote`] and [`election_gate`]: a node campaigns only when a majority would vote for
//!   it, so a node that was cut off does not depose a healthy leader when it returns;
//! - [`http`], [`readiness`] and [`metrics`]: `/metrics`, `/healthz`, `/readyz` on the same
//!   port;
//! - [`bootstrap`]: creating a new cluster from a static peer list;
//! - [`peers`] and [`statefulset`]: where the peer list comes from (`--peers`, or a
//!   Kubernetes StatefulSet's pod names).

pub mod admin_service;
pub mod bootstrap;
pub mod election_gate;
pub mod grant_service;
pub mod handover;
pub mod http;
pub mod leader;
pub mod metrics;
pub mod network;
pub mod node;
pub mod peers;
pub mod pre_vote;
pub mod raft_service;
pub mod readiness;
pub mod statefulset;

#[cfg(test)]
mod tests;

pub use network::GrpcNetwork;
pub use node::{NodeOptions, RaftTimings, StoreNode};
pub use peers::parse_peers;
pub use statefulset::StatefulSet;
