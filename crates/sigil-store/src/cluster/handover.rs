//! Handing leadership over before a leader stops (the Raft thesis's leadership transfer,
//! §3.10), so that stopping the leader — every rolling restart stops it once — costs no
//! election timeout.
//!
//! Without it, the followers of a stopped leader wait out openraft's leader lease and an
//! election timeout (0.9–1.2 s with the default timers) before one campaigns, and every write
//! and linearizable read waits with them. openraft 0.9 has no transfer API, so the store does
//! it itself, in [`hand_over`]:
//!
//! 0. The leader stops campaigning (it is on its way out), and if it was elected less than
//!    openraft's leader lease ago, it keeps serving until its leadership is that old: a node
//!    refuses votes for a lease after its leader's vote was last renewed, and a leader's own
//!    vote was last renewed when it was elected.
//! 1. It stops taking writes ([`WriteGate::close`]): new ones are refused at once, naming the
//!    successor, and the ones in flight finish. Its log stops growing.
//! 2. It picks the voter that holds the most of its log and waits until that voter holds all
//!    of it, so that the successor wins the vote and loses nothing.
//! 3. It sends that voter `TimeoutNow` ([`TimeoutNowRequest`]); the voter campaigns at once
//!    (`Raft::trigger().elect()`, which the election gate does not hold back). Should it refuse
//!    or be unreachable, the next voter is asked, within the same time budget.
//! 4. The old leader grants the vote (its log is no longer than the candidate's) and steps
//!    down: with three voters that is the majority, so the successor leads within a round
//!    trip. The third voter still holds the old leader's lease and refuses the vote, then
//!    follows the successor's first append. (With five voters the two votes are not enough:
//!    the successor is elected once the others' lease has run out, through the election gate,
//!    as after a failure; the old leader, no longer campaigning, cannot win that election.)
//! 5. It waits until another node leads, then stops.
//!
//! The pre-vote's promise holds: a node campaigns out of turn only when the leader it follows
//! asks, in its current term, having heard from it within the shortest election timeout
//! ([`check_timeout_now`]). A node cut off from the cluster is the leader of nobody, and a
//! deposed leader's term is behind its former followers', so neither can make a healthy
//! cluster elect.

use super::network::{GrpcNetwork, RpcError};
use super::pre_vote::LeaderContact;
use crate::types::{LogId, NodeId, StoreRaft};
use openraft::ServerState;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// What a stopping leader sends the voter it hands leadership to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeoutNowRequest {
    /// The sender, which must be the leader the receiver follows.
    pub leader: NodeId,
    /// The sender's term, which must be the receiver's.
    pub term: u64,
    /// The sender's last log id, which the receiver must hold.
    pub last_log: Option<LogId>,
}

/// The receiver's answer: it campaigns, or why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeoutNowResponse {
    /// `Ok` once the receiver has started its election.
    pub outcome: Result<(), Refusal>,
}

/// Why a node refused to campaign on a `TimeoutNow`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The sender is not the leader this node follows in its current term.
    #[error(
        "node {sender} in term {sender_term} is not the leader here (term {term}, leader {leader:?})"
    )]
    NotMyLeader {
        /// Who asked.
        sender: NodeId,
        /// In which term.
        sender_term: u64,
        /// This node's term.
        term: u64,
        /// The leader this node follows.
        leader: Option<NodeId>,
    },
    /// The leader has not been heard from within the shortest election timeout.
    #[error("no message from the leader within the shortest election timeout")]
    LeaderSilent,
    /// This node does not vote, so it cannot lead.
    #[error("this node is not a voter")]
    NotAVoter,
    /// This node lacks part of the leader's log and would lose the vote.
    #[error("this node's log ends at {own:?}, the leader's at {leader:?}")]
    Behind {
        /// This node's last log id.
        own: Option<LogId>,
        /// The leader's.
        leader: Option<LogId>,
    },
    /// Raft is stopping or failed.
    #[error("raft stopped: {0}")]
    Stopped(String),
}

/// What the receiver of a `TimeoutNow` knows about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Follower {
    /// Its term.
    pub term: u64,
    /// The leader it follows.
    pub leader: Option<NodeId>,
    /// Whether it heard from a leader within the shortest election timeout.
    pub heard_recently: bool,
    /// Whether it is a voter.
    pub voter: bool,
    /// Its last log id.
    pub last_log: Option<LogId>,
}

/// Whether a node in state `own` may campaign on `request`.
pub fn check_timeout_now(own: &Follower, request: &TimeoutNowRequest) -> Result<(), Refusal> {
    if own.leader != Some(request.leader) || own.term != request.term {
        return Err(Refusal::NotMyLeader {
            sender: request.leader,
            sender_term: request.term,
            term: own.term,
            leader: own.leader,
        });
    }
    if !own.heard_recently {
        return Err(Refusal::LeaderSilent);
    }
    if !own.voter {
        return Err(Refusal::NotAVoter);
    }
    if own.last_log < request.last_log {
        return Err(Refusal::Behind {
            own: own.last_log,
            leader: request.last_log,
        });
    }
    Ok(())
}

/// Answers a `TimeoutNow` on node `id`: checks it ([`check_timeout_now`]) and, if it holds,
/// starts an election at once.
pub async fn answer_timeout_now(
    raft: &StoreRaft,
    id: NodeId,
    contact: &LeaderContact,
    leader_window: Duration,
    request: &TimeoutNowRequest,
) -> TimeoutNowResponse {
    // The leader saw this node acknowledge its whole log; this node's published metrics may
    // trail its log by a moment.
    let mut logged = raft.data_metrics();
    let _ = tokio::time::timeout(leader_window, async {
        while logged.borrow_and_update().last_log < request.last_log {
            if logged.changed().await.is_err() {
                return;
            }
        }
    })
    .await;
    let metrics = raft.metrics().borrow().clone();
    let own = Follower {
        term: metrics.current_term,
        leader: metrics.current_leader,
        heard_recently: contact.within(leader_window),
        voter: metrics
            .membership_config
            .membership()
            .voter_ids()
            .any(|voter| voter == id),
        last_log: raft.data_metrics().borrow().last_log,
    };
    let outcome = match check_timeout_now(&own, request) {
        Ok(()) => {
            tracing::info!(
                id,
                from = request.leader,
                term = request.term,
                "the leader is stopping and hands over: campaigning"
            );
            raft.trigger()
                .elect()
                .await
                .map_err(|fatal| Refusal::Stopped(fatal.to_string()))
        }
        Err(refusal) => {
            tracing::warn!(id, from = request.leader, %refusal, "TimeoutNow refused");
            Err(refusal)
        }
    };
    TimeoutNowResponse { outcome }
}

/// Writes on a node that may hand its leadership over: while open, each write holds a
/// [`WritePermit`]; once closed, writes are refused at once and [`WriteGate::close`] waits for
/// those in flight, so that the log stops growing before the successor is brought up to date.
#[derive(Debug, Default)]
pub struct WriteGate {
    state: Mutex<GateState>,
    idle: Notify,
}

#[derive(Debug, Default)]
struct GateState {
    /// `Some` once closed, with the URL of the node that takes over, if known.
    closed: Option<Option<String>>,
    in_flight: usize,
}

/// A write admitted by the [`WriteGate`]; dropping it ends the write.
#[derive(Debug)]
pub struct WritePermit<'g> {
    gate: &'g WriteGate,
}

/// A write refused because the node is handing leadership over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this node is stopping and hands its leadership over")]
pub struct HandingOver {
    /// The URL of the node taking over, if chosen.
    pub successor: Option<String>,
}

impl WriteGate {
    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        // Two plain fields, consistent between statements.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Admits a write, or refuses it once the gate is closed.
    pub fn enter(&self) -> Result<WritePermit<'_>, HandingOver> {
        let mut state = self.lock();
        if let Some(successor) = &state.closed {
            return Err(HandingOver {
                successor: successor.clone(),
            });
        }
        state.in_flight += 1;
        Ok(WritePermit { gate: self })
    }

    /// Refuses writes from now on (naming `successor`) and waits up to `timeout` for the ones
    /// in flight; returns whether they all finished.
    pub async fn close(&self, successor: Option<String>, timeout: Duration) -> bool {
        self.lock().closed = Some(successor);
        tokio::time::timeout(timeout, async {
            loop {
                let idle = self.idle.notified();
                if self.lock().in_flight == 0 {
                    return;
                }
                idle.await;
            }
        })
        .await
        .is_ok()
    }
}

impl WriteGate {
    /// Names another node as the one taking over, once closed.
    fn name_successor(&self, successor: String) {
        let mut state = self.lock();
        if state.closed.is_some() {
            state.closed = Some(Some(successor));
        }
    }
}

impl Drop for WritePermit<'_> {
    fn drop(&mut self) {
        let mut state = self.gate.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        if state.in_flight == 0 {
            self.gate.idle.notify_waiters();
        }
    }
}

/// Why leadership was not handed over. The node stops anyway; the others then elect after
/// the usual timeout.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandoverError {
    /// This node does not lead: nothing to hand over.
    #[error("this node does not lead")]
    NotLeader,
    /// No other voter to hand over to.
    #[error("no other voter to hand leadership to")]
    NoSuccessor,
    /// Writes in flight did not finish in time.
    #[error("writes in flight did not finish within {0:?}")]
    WritesInFlight(Duration),
    /// The successor did not catch up with the log in time.
    #[error("node {successor} did not catch up with the log within {timeout:?}")]
    NotCaughtUp {
        /// The chosen successor.
        successor: NodeId,
        /// How long it was given.
        timeout: Duration,
    },
    /// The successor could not be asked.
    #[error("asking node {successor} to take over")]
    Unreachable {
        /// The chosen successor.
        successor: NodeId,
        /// What failed.
        #[source]
        source: RpcError,
    },
    /// The successor refused.
    #[error("node {successor} refused to take over")]
    Refused {
        /// The chosen successor.
        successor: NodeId,
        /// Its reason.
        #[source]
        refusal: Refusal,
    },
    /// No other node led within the time given.
    #[error("no other node led within {timeout:?} of asking node {successor}")]
    NoNewLeader {
        /// The chosen successor.
        successor: NodeId,
        /// How long it was given.
        timeout: Duration,
    },
}

/// How long each step of a handover may take.
#[derive(Debug, Clone, Copy)]
pub struct HandoverTimings {
    /// openraft's leader lease (the longest election timeout): a leader elected less than this
    /// long ago would refuse its successor's vote, so it waits until its leadership is older.
    pub lease: Duration,
    /// For the writes in flight to finish and the successor to hold the whole log.
    pub catch_up: Duration,
    /// For another node to lead after `TimeoutNow` was accepted.
    pub election: Duration,
}

/// The voters other than `id`, the one that holds the most of the leader's log (from the
/// leader's replication progress) first. Among equals, the highest id first: a StatefulSet
/// rolls from the highest ordinal down, so leadership goes to a node the rollout has already
/// restarted.
fn successors(
    id: NodeId,
    voters: impl Iterator<Item = NodeId>,
    matched: impl Fn(NodeId) -> Option<u64>,
) -> Vec<NodeId> {
    let mut ranked: Vec<(Option<u64>, NodeId)> = voters
        .filter(|voter| *voter != id)
        .map(|voter| (matched(voter), voter))
        .collect();
    ranked.sort_unstable_by(|a, b| b.cmp(a));
    ranked.into_iter().map(|(_, voter)| voter).collect()
}

/// When this node became leader in its current term, as seen in Raft's metrics (a little
/// after the fact, which errs on the side of waiting longer).
#[derive(Debug, Default)]
pub struct LeadingSince {
    since: Mutex<Option<(openraft::Vote<NodeId>, Instant)>>,
}

impl LeadingSince {
    /// Starts following `raft`'s metrics; abort the handle to stop.
    pub fn spawn(raft: StoreRaft) -> (Arc<LeadingSince>, JoinHandle<()>) {
        let leading = Arc::new(LeadingSince::default());
        let task = tokio::spawn({
            let leading = Arc::clone(&leading);
            async move {
                let mut metrics = raft.metrics();
                loop {
                    let (state, vote) = {
                        let now = metrics.borrow_and_update();
                        (now.state, now.vote)
                    };
                    leading.observe(state == ServerState::Leader, vote);
                    if metrics.changed().await.is_err() {
                        return;
                    }
                }
            }
        });
        (leading, task)
    }

    fn observe(&self, leads: bool, vote: openraft::Vote<NodeId>) {
        let mut since = self.lock();
        match (&*since, leads) {
            (Some((seen, _)), true) if *seen == vote => {}
            (_, true) => *since = Some((vote, Instant::now())),
            (_, false) => *since = None,
        }
    }

    /// How long this node has led, if it leads.
    fn elapsed(&self) -> Option<Duration> {
        self.lock().as_ref().map(|(_, at)| at.elapsed())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(openraft::Vote<NodeId>, Instant)>> {
        // A plain value, valid whatever a panicking holder left in it.
        self.since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Hands leadership over from this node (`id`), if it leads; returns the new leader. Writes
/// stay refused through `gate` afterwards: call this only on a node about to stop.
pub async fn hand_over(
    raft: &StoreRaft,
    network: &GrpcNetwork,
    gate: &WriteGate,
    leading: &LeadingSince,
    id: NodeId,
    timings: HandoverTimings,
) -> Result<NodeId, HandoverError> {
    if raft.metrics().borrow().state != ServerState::Leader {
        return Err(HandoverError::NotLeader);
    }
    // Still serving meanwhile.
    if let Some(led) = leading.elapsed() {
        tokio::time::sleep(timings.lease.saturating_sub(led)).await;
    }
    let metrics = raft.metrics().borrow().clone();
    if metrics.state != ServerState::Leader {
        return Err(HandoverError::NotLeader);
    }
    let membership = metrics.membership_config.membership().clone();
    let matched = |voter: NodeId| -> Option<u64> {
        metrics
            .replication
            .as_ref()
            .and_then(|replication| replication.get(&voter).copied().flatten())
            .map(|log_id| log_id.index)
    };
    let candidates = successors(id, membership.voter_ids(), matched);
    let first = candidates
        .first()
        .copied()
        .ok_or(HandoverError::NoSuccessor)?;
    let first_url = membership.get_node(&first).map(|node| node.addr.clone());
    tracing::info!(id, successor = first, "stopping as leader: handing over");

    let started = tokio::time::Instant::now();
    if !gate.close(first_url, timings.catch_up).await {
        return Err(HandoverError::WritesInFlight(timings.catch_up));
    }
    let last_log = raft.data_metrics().borrow().last_log;
    let request = TimeoutNowRequest {
        leader: id,
        term: raft.metrics().borrow().current_term,
        last_log,
    };
    // The best candidate first; should it refuse or be unreachable, the next.
    let mut failure = HandoverError::NoSuccessor;
    let mut asked = None;
    for successor in candidates {
        let Some(node) = membership.get_node(&successor).cloned() else {
            continue;
        };
        let remaining = timings.catch_up.saturating_sub(started.elapsed());
        let caught_up = raft
            .wait(Some(remaining))
            .metrics(
                |m| {
                    m.replication.as_ref().is_some_and(|replication| {
                        replication.get(&successor).copied().flatten() >= last_log
                    })
                },
                "the successor holds the whole log",
            )
            .await;
        if caught_up.is_err() {
            failure = HandoverError::NotCaughtUp {
                successor,
                timeout: timings.catch_up,
            };
            continue;
        }
        if successor != first {
            gate.name_successor(node.addr.clone());
        }
        let answer = network
            .timeout_now(successor, &node, &request, timings.election)
            .await;
        match answer.map(|answer| answer.outcome) {
            Ok(Ok(())) => {
                asked = Some(successor);
                break;
            }
            Ok(Err(refusal)) => failure = HandoverError::Refused { successor, refusal },
            Err(source) => failure = HandoverError::Unreachable { successor, source },
        }
        tracing::info!(id, error = ?failure, "the successor did not take over; trying another");
    }
    let Some(successor) = asked else {
        return Err(failure);
    };

    let led = raft
        .wait(Some(timings.election))
        .metrics(
            |m| m.current_leader.is_some_and(|leader| leader != id),
            "another node leads",
        )
        .await
        .map_err(|_| HandoverError::NoNewLeader {
            successor,
            timeout: timings.election,
        })?;
    Ok(led.current_leader.unwrap_or(successor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openraft::CommittedLeaderId;

    fn log(term: u64, index: u64) -> Option<LogId> {
        Some(LogId::new(CommittedLeaderId::new(term, 1), index))
    }

    fn follower() -> Follower {
        Follower {
            term: 4,
            leader: Some(1),
            heard_recently: true,
            voter: true,
            last_log: log(4, 20),
        }
    }

    fn request() -> TimeoutNowRequest {
        TimeoutNowRequest {
            leader: 1,
            term: 4,
            last_log: log(4, 20),
        }
    }

    #[test]
    fn only_the_leader_followed_now_may_ask() {
        assert_eq!(check_timeout_now(&follower(), &request()), Ok(()));
        // Another node, or the leader of an earlier term (deposed while it was cut off).
        for request in [
            TimeoutNowRequest {
                leader: 3,
                ..request()
            },
            TimeoutNowRequest {
                term: 3,
                ..request()
            },
        ] {
            assert!(matches!(
                check_timeout_now(&follower(), &request),
                Err(Refusal::NotMyLeader { .. })
            ));
        }
        let no_leader = Follower {
            leader: None,
            ..follower()
        };
        assert!(matches!(
            check_timeout_now(&no_leader, &request()),
            Err(Refusal::NotMyLeader { .. })
        ));
        let silent = Follower {
            heard_recently: false,
            ..follower()
        };
        assert_eq!(
            check_timeout_now(&silent, &request()),
            Err(Refusal::LeaderSilent)
        );
    }

    #[test]
    fn a_learner_or_a_node_behind_does_not_campaign() {
        let learner = Follower {
            voter: false,
            ..follower()
        };
        assert_eq!(
            check_timeout_now(&learner, &request()),
            Err(Refusal::NotAVoter)
        );
        let behind = Follower {
            last_log: log(4, 19),
            ..follower()
        };
        assert!(matches!(
            check_timeout_now(&behind, &request()),
            Err(Refusal::Behind { .. })
        ));
        let ahead = Follower {
            last_log: log(4, 21),
            ..follower()
        };
        assert_eq!(check_timeout_now(&ahead, &request()), Ok(()));
    }

    #[test]
    fn the_successor_holding_the_most_of_the_log_is_asked_first() {
        let matched = |voter| match voter {
            2 => Some(10),
            3 => Some(12),
            _ => None,
        };
        assert_eq!(successors(1, [1, 2, 3, 4].into_iter(), matched), [3, 2, 4]);
        let even = |_| Some(7);
        assert_eq!(successors(2, [1, 2, 3].into_iter(), even), [3, 1]);
        assert_eq!(successors(3, [1, 2, 3].into_iter(), even), [2, 1]);
        assert!(successors(1, [1].into_iter(), even).is_empty());
    }

    #[tokio::test]
    async fn a_closed_gate_refuses_writes_and_waits_for_those_in_flight() {
        let gate = WriteGate::default();
        let permit = gate.enter().unwrap();
        assert!(
            !gate
                .close(Some("http://b".into()), Duration::from_millis(20))
                .await
        );
        assert_eq!(
            gate.enter().unwrap_err(),
            HandingOver {
                successor: Some("http://b".into())
            }
        );
        drop(permit);
        assert!(gate.close(None, Duration::from_millis(20)).await);
    }
}
