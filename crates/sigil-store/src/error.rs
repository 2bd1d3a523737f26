//! Mapping openraft's errors to the core's [`StoreError`].
//!
//! `Unavailable` means "retry, maybe elsewhere": no leader here, the node is stopping, or the
//! request timed out. `Internal` means a retry will not help (storage failure, a bug).

use crate::types::{Node, NodeId};
use openraft::error::{CheckIsLeaderError, ClientWriteError, Fatal, RaftError};
use sigil_core::store::StoreError;

/// Maps a failed [`openraft::Raft::client_write`].
pub(crate) fn from_write(err: RaftError<NodeId, ClientWriteError<NodeId, Node>>) -> StoreError {
    match err {
        RaftError::APIError(ClientWriteError::ForwardToLeader(forward)) => {
            StoreError::Unavailable(format!("not the leader: {forward}"))
        }
        RaftError::APIError(other @ ClientWriteError::ChangeMembershipError(_)) => {
            StoreError::Internal(other.to_string())
        }
        RaftError::Fatal(fatal) => from_fatal(fatal),
    }
}

/// Maps a failed [`openraft::Raft::ensure_linearizable`].
pub(crate) fn from_read(err: RaftError<NodeId, CheckIsLeaderError<NodeId, Node>>) -> StoreError {
    match err {
        RaftError::APIError(check) => StoreError::Unavailable(check.to_string()),
        RaftError::Fatal(fatal) => from_fatal(fatal),
    }
}

/// Maps a stopped or failed Raft node.
pub(crate) fn from_fatal(fatal: Fatal<NodeId>) -> StoreError {
    match fatal {
        Fatal::Stopped => StoreError::Unavailable("the store is shutting down".into()),
        other => StoreError::Internal(other.to_string()),
    }
}

/// A copy of `err`, for answering every caller of a shared operation.
pub(crate) fn duplicate(err: &StoreError) -> StoreError {
    match err {
        StoreError::Unavailable(detail) => StoreError::Unavailable(detail.clone()),
        StoreError::Internal(detail) => StoreError::Internal(detail.clone()),
        other => StoreError::Internal(other.to_string()),
    }
}
