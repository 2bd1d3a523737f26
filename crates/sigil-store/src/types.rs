//! The Raft type configuration, and the commands the grant state machine applies.
//!
//! A [`Request`] is what a proposer appends to the Raft log: the [`Command`] plus the time the
//! proposer stamped on it. The state machine never reads the clock; every replica applying the
//! same request computes the same [`Response`].
//!
//! Requests live in the log and in snapshots for as long as they are kept, so their encoding
//! must stay readable by later versions:
//! - new [`Command`] and [`Response`] variants are appended at the end, never inserted or
//!   reordered (the encoding numbers variants by position);
//! - new request fields (such as a request id) go into a new version of the request envelope
//!   (see `RequestEnvelope`), so that entries written before them still decode.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sigil_core::handle::GrantKey;
use sigil_core::store::{ConsumeOutcome, Grant, PutOutcome, RevokeTarget};
use sigil_core::time::Timestamp;
use std::io::Cursor;

/// Identifies a store node within the Raft group.
pub type NodeId = u64;

/// How a node is reached.
pub type Node = openraft::BasicNode;

openraft::declare_raft_types!(
    /// The Raft types of the grant store.
    pub TypeConfig:
        D = Request,
        R = Response,
        NodeId = NodeId,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

/// A Raft node of the grant store.
pub type StoreRaft = openraft::Raft<TypeConfig>;

/// A Raft log entry of the grant store.
pub type LogEntry = openraft::Entry<TypeConfig>;

/// A log id of the grant store.
pub type LogId = openraft::LogId<NodeId>;

/// Errors the storage traits return.
pub type StorageError = openraft::StorageError<NodeId>;

/// A command and the time its proposer stamped on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The proposer's clock when it proposed the command; the only clock `apply` knows.
    pub now: Timestamp,
    /// What to do.
    pub command: Command,
}

/// What the state machine does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Command {
    /// Store `grant` unless a live grant exists under its key (an expired one is replaced).
    Put {
        /// The grant to store.
        grant: Grant,
    },
    /// Mark the live grant under `key` consumed, once.
    Consume {
        /// Which grant.
        key: GrantKey,
    },
    /// Remove the target's grants.
    Revoke {
        /// Which grants.
        target: RevokeTarget,
    },
    /// Remove up to `limit` grants whose `expires_at` has been reached, earliest first.
    Expire {
        /// At most this many grants per command, so one command stays small.
        limit: u64,
    },
}

/// What applying one log entry returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Response {
    /// The result of [`Command::Put`].
    Put(PutOutcome),
    /// The result of [`Command::Consume`].
    Consume(ConsumeOutcome),
    /// The result of [`Command::Revoke`]: how many grants were removed.
    Revoked(u64),
    /// The result of [`Command::Expire`]: how many grants were removed.
    Expired(u64),
    /// The entry carried no command (a new leader's blank entry, or a membership change).
    Empty,
}

/// The versions of a request's encoding. Version 1 is `{ now, command }`; a later version adds
/// fields (a request id) as a new variant, and old entries keep decoding as version 1.
#[derive(Deserialize)]
enum RequestEnvelope {
    V1 { now: Timestamp, command: Command },
}

/// [`RequestEnvelope`] by reference, so that encoding does not copy the command.
#[derive(Serialize)]
enum RequestEnvelopeRef<'a> {
    V1 {
        now: Timestamp,
        command: &'a Command,
    },
}

impl Serialize for Request {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RequestEnvelopeRef::V1 {
            now: self.now,
            command: &self.command,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Request {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match RequestEnvelope::deserialize(deserializer)? {
            RequestEnvelope::V1 { now, command } => Ok(Request { now, command }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::codec::{decode, encode};
    use openraft::{CommittedLeaderId, EntryPayload, Membership, StoredMembership, Vote};
    use std::collections::{BTreeMap, BTreeSet};

    fn sample_grant() -> Grant {
        Grant {
            key: GrantKey::of_handle("h"),
            kind: sigil_core::store::GrantKind::RefreshToken,
            client_id: "app".into(),
            subject: Some("alice".into()),
            family: None,
            issued_at: Timestamp(10),
            expires_at: Timestamp(20),
            consumed_at: None,
            payload: vec![1, 2, 3],
        }
    }

    #[test]
    fn requests_round_trip_and_start_with_their_version() {
        let request = Request {
            now: Timestamp(15),
            command: Command::Put {
                grant: sample_grant(),
            },
        };
        let bytes = encode(&request).unwrap();
        assert_eq!(bytes.first(), Some(&0), "version 1 is variant 0");
        assert_eq!(decode::<Request>(&bytes).ok(), Some(request));
    }

    /// postcard is not self-describing: this fails if openraft's types ever skip fields.
    #[test]
    fn openraft_types_round_trip_through_postcard() {
        let log_id = openraft::LogId::new(CommittedLeaderId::new(3, 1), 42);
        let nodes: BTreeMap<NodeId, Node> = [(1, Node::new("a")), (2, Node::new("b"))]
            .into_iter()
            .collect();
        let voters: BTreeSet<NodeId> = [1].into_iter().collect();
        let membership = Membership::new(vec![voters], nodes);
        let entries = [
            LogEntry {
                log_id,
                payload: EntryPayload::Blank,
            },
            LogEntry {
                log_id,
                payload: EntryPayload::Membership(membership.clone()),
            },
            LogEntry {
                log_id,
                payload: EntryPayload::Normal(Request {
                    now: Timestamp(1),
                    command: Command::Expire { limit: 5 },
                }),
            },
        ];
        for entry in entries {
            let back: LogEntry = decode(&encode(&entry).unwrap()).unwrap();
            assert_eq!(back, entry);
        }
        let mut vote = Vote::new(3, 1);
        vote.commit();
        assert_eq!(
            decode::<Vote<NodeId>>(&encode(&vote).unwrap()).ok(),
            Some(vote)
        );
        let stored = StoredMembership::new(Some(log_id), membership);
        assert_eq!(
            decode::<StoredMembership<NodeId, Node>>(&encode(&stored).unwrap()).ok(),
            Some(stored)
        );
        let some: Option<LogId> = Some(log_id);
        assert_eq!(
            decode::<Option<LogId>>(&encode(&some).unwrap()).ok(),
            Some(some)
        );
    }
}
