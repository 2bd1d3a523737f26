//! A state machine on disk, fed through openraft's `RaftStateMachine` trait.

use super::{all_grants, assert_indexes_consistent};
use crate::types::{Command, LogEntry, Proposal, Request, RequestId, Response};
use crate::{StateMachine, open_storage};
use openraft::storage::RaftStateMachine;
use openraft::{CommittedLeaderId, EntryPayload, LogId};
use sigil_core::handle::GrantKey;
use sigil_core::store::{ConsumeOutcome, Grant, PutOutcome, RevokeTarget, RotateOutcome, Rotation};
use sigil_core::time::Timestamp;
use tempfile::TempDir;

/// A state machine on disk, fed one command per log entry.
pub(crate) struct Machine {
    _dir: TempDir,
    pub(crate) sm: StateMachine,
    next_index: u64,
}

pub(crate) fn entry(index: u64, now: u64, command: Command) -> LogEntry {
    LogEntry {
        log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
        payload: EntryPayload::Normal(Request::single(Timestamp(now), command)),
    }
}

impl Machine {
    pub(crate) fn new() -> Machine {
        let dir = tempfile::tempdir().unwrap();
        let (_, sm) = open_storage(dir.path()).unwrap();
        Machine {
            _dir: dir,
            sm,
            next_index: 1,
        }
    }

    /// Applies one entry carrying `proposals`; returns one response per proposal.
    pub(crate) async fn run_batch(&mut self, now: u64, proposals: Vec<Proposal>) -> Vec<Response> {
        let entry = LogEntry {
            log_id: LogId::new(CommittedLeaderId::new(1, 1), self.next_index),
            payload: EntryPayload::Normal(Request {
                now: Timestamp(now),
                proposals,
            }),
        };
        self.next_index += 1;
        let mut responses = self.sm.apply([entry]).await.unwrap();
        assert_eq!(responses.len(), 1);
        assert_indexes_consistent(&self.sm.trees());
        match responses.pop().unwrap() {
            Response::Batch(responses) => responses,
            other => panic!("{other:?}"),
        }
    }

    /// Applies one entry carrying `command` with the request id `id`.
    pub(crate) async fn run_with(
        &mut self,
        now: u64,
        id: Option<RequestId>,
        command: Command,
    ) -> Response {
        let mut responses = self.run_batch(now, vec![Proposal { id, command }]).await;
        assert_eq!(responses.len(), 1);
        responses.pop().unwrap()
    }

    /// Builds a snapshot of the current state.
    pub(crate) async fn snapshot(&mut self) -> openraft::Snapshot<crate::types::TypeConfig> {
        use openraft::RaftSnapshotBuilder as _;
        self.sm
            .get_snapshot_builder()
            .await
            .build_snapshot()
            .await
            .unwrap()
    }

    pub(crate) async fn run(&mut self, now: u64, command: Command) -> Response {
        self.run_with(now, None, command).await
    }

    pub(crate) async fn rotate(&mut self, now: u64, rotation: Rotation) -> RotateOutcome {
        match self.run(now, Command::Rotate(rotation)).await {
            Response::Rotate(outcome) => outcome,
            other => panic!("{other:?}"),
        }
    }

    pub(crate) async fn put(&mut self, now: u64, grant: Grant) -> PutOutcome {
        match self.run(now, Command::Put { grant }).await {
            Response::Put(outcome) => outcome,
            other => panic!("{other:?}"),
        }
    }

    pub(crate) async fn consume(&mut self, now: u64, key: GrantKey) -> ConsumeOutcome {
        match self.run(now, Command::Consume { key }).await {
            Response::Consume(outcome) => outcome,
            other => panic!("{other:?}"),
        }
    }

    pub(crate) async fn revoke(&mut self, target: RevokeTarget) -> u64 {
        match self.run(0, Command::Revoke { target }).await {
            Response::Revoked(n) => n,
            other => panic!("{other:?}"),
        }
    }

    pub(crate) async fn expire(&mut self, now: u64, limit: u64) -> u64 {
        match self.run(now, Command::Expire { limit }).await {
            Response::Expired(n) => n,
            other => panic!("{other:?}"),
        }
    }

    pub(crate) fn stored(&self) -> Vec<Grant> {
        all_grants(&self.sm.trees())
    }

    pub(crate) fn stored_payloads(&self) -> Vec<Vec<u8>> {
        let mut payloads: Vec<_> = self.stored().into_iter().map(|g| g.payload).collect();
        payloads.sort();
        payloads
    }
}

impl Machine {
    /// How many request ids the machine remembers.
    pub(crate) fn sm_requests(&self) -> usize {
        self.sm.trees().requests.len()
    }

    /// The index of the next entry this machine applies.
    pub(crate) fn next(&self) -> u64 {
        self.next_index
    }

    /// Continues the log at `index` (after installing a snapshot).
    pub(crate) fn skip_to(&mut self, index: u64) {
        self.next_index = index;
    }
}
