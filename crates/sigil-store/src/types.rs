//! The Raft type configuration, and the commands the grant state machine applies.
//!
//! A [`Request`] is what a proposer appends to the Raft log: a batch of [`Proposal`]s (each a
//! [`Command`] with an optional [`RequestId`]) plus the time the proposer stamped on it. The state machine never reads the clock; every replica applying the
//! same request computes the same [`Response`].
//!
//! Requests live in the log and in snapshots for as long as they are kept, so their encoding
//! must stay readable by later versions:
//! - new [`Command`] and [`Response`] variants are appended at the end, never inserted or
//!   reordered (the encoding numbers variants by position);
//! - new request fields go into a new version of the request envelope (see `RequestEnvelope`),
//!   so that entries written before them still decode (version 1 had no batch and no ids).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sigil_core::handle::GrantKey;
use sigil_core::store::{
    ConsumeOutcome, Grant, PutOutcome, RevokeTarget, RotateOutcome, Rotation, Throttle,
    ThrottleOutcome,
};
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

/// Identifies one client request across retries: a proposal carrying an id that was already
/// applied (within [`DEDUPE_WINDOW_SECS`]) returns the remembered response and changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId(pub [u8; 16]);

/// How long (in seconds of the proposers' clocks, as stamped into requests) an applied request
/// id is remembered. After that the `Expire` sweep forgets it and a retry is applied anew.
pub const DEDUPE_WINDOW_SECS: u64 = 600;

/// One client command, with the id that makes retrying it safe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The request id, if the client sent one.
    pub id: Option<RequestId>,
    /// What to do.
    pub command: Command,
}

/// One Raft log entry's payload: a batch of proposals and the time their proposer stamped on
/// them. The proposals are applied in order, in one transaction, each seeing the writes of the
/// ones before it; the entry's response is a [`Response::Batch`] with one response each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The proposer's clock when it proposed the batch; the only clock `apply` knows.
    pub now: Timestamp,
    /// What to do, in order.
    pub proposals: Vec<Proposal>,
}

impl Request {
    /// A batch of one proposal without an id.
    pub fn single(now: Timestamp, command: Command) -> Request {
        Request {
            now,
            proposals: vec![Proposal { id: None, command }],
        }
    }
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
    /// Remove up to `limit` grants whose `expires_at` has been reached, earliest first, and up
    /// to `limit` remembered request ids older than [`DEDUPE_WINDOW_SECS`].
    Expire {
        /// At most this many grants (and ids) per command, so one command stays small.
        limit: u64,
    },
    /// Rotate a refresh token; see [`RotateOutcome`].
    Rotate(Rotation),
    /// Admit, refuse or count a sign-in attempt under a login-failure counter; see
    /// [`Throttle::apply`].
    Throttle(Throttle),
}

/// What applying one proposal (or one log entry) returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Response {
    /// The result of [`Command::Put`].
    Put(PutOutcome),
    /// The result of [`Command::Consume`].
    Consume(ConsumeOutcome),
    /// The result of [`Command::Revoke`]: how many grants were removed.
    Revoked(u64),
    /// The result of [`Command::Expire`]: how many grants and remembered ids were removed.
    Expired(u64),
    /// The entry carried no command (a new leader's blank entry, or a membership change).
    Empty,
    /// The result of [`Command::Rotate`].
    Rotate(RotateOutcome),
    /// The result of a log entry carrying a [`Request`]: one response per proposal, in order.
    Batch(Vec<Response>),
    /// The result of [`Command::Throttle`].
    Throttle(ThrottleOutcome),
}

/// The versions of a request's encoding. Version 1 is `{ now, command }` (read as a batch of
/// one proposal without id); version 2 is `{ now, proposals }`. Old entries keep decoding.
#[derive(Deserialize)]
enum RequestEnvelope {
    V1 {
        now: Timestamp,
        command: Command,
    },
    V2 {
        now: Timestamp,
        proposals: Vec<Proposal>,
    },
}

/// [`RequestEnvelope`] by reference, so that encoding does not copy the proposals.
#[derive(Serialize)]
enum RequestEnvelopeRef<'a> {
    #[allow(dead_code)] // written by older versions only; kept so V2 encodes as variant 1
    V1 {
        now: Timestamp,
        command: &'a Command,
    },
    V2 {
        now: Timestamp,
        proposals: &'a [Proposal],
    },
}

impl Serialize for Request {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RequestEnvelopeRef::V2 {
            now: self.now,
            proposals: &self.proposals,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Request {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match RequestEnvelope::deserialize(deserializer)? {
            RequestEnvelope::V1 { now, command } => Ok(Request::single(now, command)),
            RequestEnvelope::V2 { now, proposals } => Ok(Request { now, proposals }),
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
            proposals: vec![
                Proposal {
                    id: Some(RequestId([7; 16])),
                    command: Command::Put {
                        grant: sample_grant(),
                    },
                },
                Proposal {
                    id: None,
                    command: Command::Consume {
                        key: sample_grant().key,
                    },
                },
            ],
        };
        let bytes = encode(&request).unwrap();
        assert_eq!(bytes.first(), Some(&1), "version 2 is variant 1");
        assert_eq!(decode::<Request>(&bytes).ok(), Some(request));
    }

    #[test]
    fn version_1_requests_decode_as_a_batch_of_one() {
        let command = Command::Consume {
            key: sample_grant().key,
        };
        let v1 = encode(&RequestEnvelopeRef::V1 {
            now: Timestamp(3),
            command: &command,
        })
        .unwrap();
        assert_eq!(v1.first(), Some(&0));
        assert_eq!(
            decode::<Request>(&v1).ok(),
            Some(Request::single(Timestamp(3), command))
        );
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
                payload: EntryPayload::Normal(Request::single(
                    Timestamp(1),
                    Command::Expire { limit: 5 },
                )),
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
