//! The threads that check argon2id hashes — passwords, and client and API secrets stored that
//! way — so that no HTTP worker ever runs one.
//!
//! A check costs tens of milliseconds of CPU and 19 MiB of memory. Run on the workers, a
//! flood of wrong secrets for one client stalled every other request; queued without bound,
//! it would only move the stall. So the pool bounds, per [`SecretOwner`] and in total, how
//! many checks wait or run ([`CheckLimits`]), refuses the rest at once (the caller answers
//! "retry later"), and lets one owner's checks run on at most half the threads: guesses
//! against one client keep at most half the cores busy and never hold up another owner's
//! check for long. Each thread keeps one [`HashMemory`], so memory is bounded by threads ×
//! one buffer however many checks run.

use async_trait::async_trait;
use sigil_core::error::ErrorChain;
use sigil_core::secret::{CheckRefused, HashMemory, SecretChecks, SecretHash, SecretOwner};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// How many checks may wait or run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckLimits {
    /// Checking threads.
    pub threads: usize,
    /// Checks of one owner that may run at once.
    pub running_per_owner: usize,
    /// Checks of one owner that may wait or run; more are refused.
    pub pending_per_owner: usize,
    /// Checks that may wait or run in total; more are refused.
    pub pending_total: usize,
}

impl CheckLimits {
    /// One thread per core; one owner runs on at most half of them and may have four checks
    /// waiting or running; sixteen per thread in total (under a second of queueing).
    pub fn for_this_machine() -> Self {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            threads,
            running_per_owner: (threads / 2).max(1),
            pending_per_owner: 4,
            pending_total: 16 * threads,
        }
    }
}

/// The checking threads and their queue.
pub struct SecretCheckPool {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SecretCheckPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretCheckPool")
            .field("limits", &self.shared.limits)
            .finish_non_exhaustive()
    }
}

struct Shared {
    limits: CheckLimits,
    state: Mutex<State>,
    /// Signalled when a job is queued or finishes (which may make a queued job runnable).
    changed: Condvar,
}

/// One check and where its answer goes.
struct Job {
    owner: SecretOwner,
    hashes: Vec<SecretHash>,
    presented: String,
    answer: tokio::sync::oneshot::Sender<bool>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    /// Waiting or running, by owner and in total.
    pending: HashMap<SecretOwner, usize>,
    pending_total: usize,
    running: HashMap<SecretOwner, usize>,
    stopped: bool,
}

impl State {
    /// The oldest queued job whose owner may run one more.
    fn take_runnable(&mut self, running_per_owner: usize) -> Option<Job> {
        let running = &self.running;
        let index = self
            .queue
            .iter()
            .position(|job| running.get(&job.owner).copied().unwrap_or(0) < running_per_owner)?;
        let job = self.queue.remove(index)?;
        *self.running.entry(job.owner.clone()).or_default() += 1;
        Some(job)
    }

    fn finish(&mut self, owner: &SecretOwner) {
        decrement(&mut self.running, owner);
        decrement(&mut self.pending, owner);
        self.pending_total = self.pending_total.saturating_sub(1);
    }
}

fn decrement(counts: &mut HashMap<SecretOwner, usize>, owner: &SecretOwner) {
    if let Some(count) = counts.get_mut(owner) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            counts.remove(owner);
        }
    }
}

impl Shared {
    fn lock(&self) -> Result<MutexGuard<'_, State>, CheckRefused> {
        self.state.lock().map_err(|_| CheckRefused::Stopped)
    }
}

impl SecretCheckPool {
    /// Starts the threads.
    pub fn start(limits: CheckLimits) -> Self {
        let shared = Arc::new(Shared {
            limits,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        for index in 0..limits.threads.max(1) {
            let shared = Arc::clone(&shared);
            let spawned = std::thread::Builder::new()
                .name(format!("sigil-secret-{index}"))
                .spawn(move || work(&shared));
            if let Err(error) = spawned {
                tracing::error!(%error, "starting a secret-check thread");
            }
        }
        Self { shared }
    }

    /// The limits it was started with.
    pub fn limits(&self) -> CheckLimits {
        self.shared.limits
    }
}

impl Drop for SecretCheckPool {
    fn drop(&mut self) {
        if let Ok(mut state) = self.shared.state.lock() {
            state.stopped = true;
        }
        self.shared.changed.notify_all();
    }
}

#[async_trait]
impl SecretChecks for SecretCheckPool {
    async fn check(
        &self,
        owner: SecretOwner,
        hashes: Vec<SecretHash>,
        presented: String,
    ) -> Result<bool, CheckRefused> {
        let limits = self.shared.limits;
        let (answer, answered) = tokio::sync::oneshot::channel();
        {
            let mut state = self.shared.lock()?;
            if state.stopped {
                return Err(CheckRefused::Stopped);
            }
            if state.pending_total >= limits.pending_total {
                return Err(CheckRefused::Overloaded);
            }
            let pending = state.pending.entry(owner.clone()).or_default();
            if *pending >= limits.pending_per_owner {
                return Err(CheckRefused::OwnerBusy);
            }
            *pending += 1;
            state.pending_total += 1;
            state.queue.push_back(Job {
                owner,
                hashes,
                presented,
                answer,
            });
        }
        self.shared.changed.notify_all();
        answered.await.map_err(|_| CheckRefused::Stopped)
    }
}

/// A checking thread: takes runnable jobs until the pool is dropped.
fn work(shared: &Shared) {
    let mut memory = HashMemory::default();
    while let Some(job) = next_job(shared) {
        // Counted as running until this guard drops, even if the check unwinds.
        let _finished = Finished {
            shared,
            owner: &job.owner,
        };
        let matched = job.hashes.iter().fold(false, |found, hash| {
            let matched = hash
                .verify_with(&job.presented, &mut memory)
                .unwrap_or_else(|error| {
                    tracing::error!(error = %ErrorChain(&error), "a secret check failed");
                    false
                });
            matched | found
        });
        // The caller may have gone (its client disconnected); the work is done either way.
        let _ = job.answer.send(matched);
    }
}

fn next_job(shared: &Shared) -> Option<Job> {
    let mut state = shared.state.lock().ok()?;
    loop {
        if state.stopped {
            return None;
        }
        if let Some(job) = state.take_runnable(shared.limits.running_per_owner) {
            return Some(job);
        }
        state = shared.changed.wait(state).ok()?;
    }
}

/// Releases a job's place in the bounds.
struct Finished<'a> {
    shared: &'a Shared,
    owner: &'a SecretOwner,
}

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        if let Ok(mut state) = self.shared.state.lock() {
            state.finish(self.owner);
        }
        self.shared.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigil_core::model::{User, UserStore as _};
    use sigil_core::users::{ConfiguredUsers, UserAccount};
    use std::time::Duration;

    fn limits(threads: usize) -> CheckLimits {
        CheckLimits {
            threads,
            running_per_owner: 1,
            pending_per_owner: 2,
            pending_total: 4,
        }
    }

    fn client(id: &str) -> SecretOwner {
        SecretOwner::Client(id.to_owned())
    }

    /// A hash that takes long enough to check (tens of milliseconds) that concurrent
    /// submissions overlap; made once, as making one costs as much as checking it.
    fn slow_hash() -> SecretHash {
        static HASH: std::sync::LazyLock<SecretHash> =
            std::sync::LazyLock::new(|| SecretHash::argon2id_of("chosen").unwrap());
        HASH.clone()
    }

    #[tokio::test]
    async fn answers_right_and_wrong() {
        let pool = SecretCheckPool::start(limits(2));
        let hashes = vec![SecretHash::argon2id_of("a").unwrap(), slow_hash()];
        assert_eq!(
            pool.check(client("x"), hashes.clone(), "chosen".into())
                .await,
            Ok(true)
        );
        assert_eq!(
            pool.check(client("x"), hashes, "other".into()).await,
            Ok(false)
        );
    }

    #[tokio::test]
    async fn one_owner_is_refused_beyond_its_share_and_others_are_not() {
        let pool = Arc::new(SecretCheckPool::start(limits(2)));
        slow_hash();
        let submit = |owner: SecretOwner| {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move { pool.check(owner, vec![slow_hash()], "no".into()).await })
        };
        let first = submit(client("attacked"));
        let second = submit(client("attacked"));
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Two are waiting or running for this client: a third is refused at once.
        assert_eq!(
            pool.check(client("attacked"), vec![slow_hash()], "no".into())
                .await,
            Err(CheckRefused::OwnerBusy)
        );
        // Another client is served meanwhile.
        let other = pool
            .check(client("other"), vec![slow_hash()], "chosen".into())
            .await;
        assert_eq!(other, Ok(true));
        assert_eq!(first.await.unwrap(), Ok(false));
        assert_eq!(second.await.unwrap(), Ok(false));
        // Once answered, the client may try again.
        assert_eq!(
            pool.check(client("attacked"), vec![slow_hash()], "chosen".into())
                .await,
            Ok(true)
        );
    }

    #[tokio::test]
    async fn the_total_is_bounded() {
        let pool = Arc::new(SecretCheckPool::start(limits(1)));
        slow_hash();
        let waiting: Vec<_> = (0..4)
            .map(|i| {
                let pool = Arc::clone(&pool);
                tokio::spawn(async move {
                    pool.check(client(&format!("c{i}")), vec![slow_hash()], "no".into())
                        .await
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            pool.check(client("late"), vec![slow_hash()], "no".into())
                .await,
            Err(CheckRefused::Overloaded)
        );
        for check in waiting {
            assert_eq!(check.await.unwrap(), Ok(false));
        }
    }

    #[test]
    fn one_owner_runs_on_at_most_half_the_threads() {
        let mut state = State::default();
        let (answer, _) = tokio::sync::oneshot::channel();
        let (other_answer, _) = tokio::sync::oneshot::channel();
        let job = |owner: &str, answer| Job {
            owner: client(owner),
            hashes: vec![],
            presented: String::new(),
            answer,
        };
        state.queue.push_back(job("a", answer));
        let (again, _) = tokio::sync::oneshot::channel();
        state.queue.push_back(job("a", again));
        state.queue.push_back(job("b", other_answer));
        let first = state.take_runnable(1).map(|job| job.owner);
        assert_eq!(first, Some(client("a")));
        // The second of `a` waits; `b`, queued after it, runs.
        let second = state.take_runnable(1).map(|job| job.owner);
        assert_eq!(second, Some(client("b")));
        assert!(state.take_runnable(1).is_none());
        state.finish(&client("a"));
        let third = state.take_runnable(1).map(|job| job.owner);
        assert_eq!(third, Some(client("a")));
    }

    fn account(subject: &str, username: &str, password: &str) -> UserAccount {
        UserAccount {
            user: User {
                subject: subject.into(),
                username: username.into(),
                claims: serde_json::Map::new(),
            },
            password: SecretHash::argon2id_of(password).unwrap_or_else(|e| panic!("{e}")),
        }
    }

    #[tokio::test]
    async fn concurrent_sign_ins_of_different_users_all_answer_through_the_pool() {
        let accounts = (0..8)
            .map(|i| account(&format!("id-{i}"), &format!("user-{i}"), "pw"))
            .collect();
        let users = Arc::new(ConfiguredUsers::new(
            accounts,
            Arc::new(SecretCheckPool::start(CheckLimits::for_this_machine())),
        ));
        let checks: Vec<_> = (0..8)
            .map(|i| {
                let users = Arc::clone(&users);
                tokio::spawn(async move {
                    let password = if i % 2 == 0 { "pw" } else { "nope" };
                    users.authenticate(&format!("user-{i}"), password).await
                })
            })
            .collect();
        let mut accepted = 0;
        for check in checks {
            match check.await {
                Ok(Ok(signed_in)) => accepted += usize::from(signed_in.is_some()),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(accepted, 4);
    }
}
