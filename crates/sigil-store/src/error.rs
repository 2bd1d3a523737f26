//! Mapping openraft's errors to the core's [`StoreError`].
//!
//! `Unavailable` means "retry, maybe elsewhere": no leader here, the node is stopping, or the
//! request timed out. `Internal` means a retry will not help (storage failure, a bug).

use crate::types::{Node, NodeId};
use openraft::error::{CheckIsLeaderError, ClientWriteError, Fatal, RaftError};
use sigil_core::store::StoreError;
use std::sync::Arc;

/// Maps a failed [`openraft::Raft::client_write`].
pub(crate) fn from_write(err: RaftError<NodeId, ClientWriteError<NodeId, Node>>) -> StoreError {
    match err {
        RaftError::APIError(ClientWriteError::ForwardToLeader(forward)) => {
            StoreError::unavailable_from("not the leader", forward)
        }
        RaftError::APIError(other @ ClientWriteError::ChangeMembershipError(_)) => {
            StoreError::Internal {
                detail: other.to_string(),
                cause: Some(Arc::new(other)),
            }
        }
        RaftError::Fatal(fatal) => from_fatal(fatal),
    }
}

/// Maps a failed [`openraft::Raft::ensure_linearizable`].
pub(crate) fn from_read(err: RaftError<NodeId, CheckIsLeaderError<NodeId, Node>>) -> StoreError {
    match err {
        RaftError::APIError(check) => StoreError::Unavailable {
            detail: check.to_string(),
            cause: Some(Arc::new(check)),
        },
        RaftError::Fatal(fatal) => from_fatal(fatal),
    }
}

/// Maps a stopped or failed Raft node.
pub(crate) fn from_fatal(fatal: Fatal<NodeId>) -> StoreError {
    match fatal {
        Fatal::Stopped => StoreError::unavailable("the store is shutting down"),
        other => StoreError::Internal {
            detail: other.to_string(),
            cause: Some(Arc::new(other)),
        },
    }
}

/// A copy of `err`, for answering every caller of a shared operation.
pub(crate) fn duplicate(err: &StoreError) -> StoreError {
    err.clone()
}
