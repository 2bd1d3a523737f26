//! The built-in user store: accounts from configuration, passwords as argon2id hashes.
//!
//! Checking a hash takes tens of milliseconds of CPU and 19 MiB of memory. The checks run on a
//! few threads of their own (one per core), never on a worker that serves other requests,
//! and a burst of sign-ins queues for them. Spread over a general blocking pool, the same
//! burst touched dozens of threads, each keeping its own allocator arena of freed hash
//! memory: the process grew by gigabytes and spent its CPU in the kernel.

use async_trait::async_trait;
use sigil_core::model::{User, UserStore, UserStoreError};
use sigil_core::secret::SecretHash;
use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex};

/// A configured account: the user and their password hash.
#[derive(Debug, Clone)]
pub struct UserAccount {
    /// The user.
    pub user: User,
    /// `$argon2id$…`.
    pub password: SecretHash,
}

/// Users from configuration.
pub struct ConfiguredUsers {
    by_username: HashMap<String, (Arc<User>, SecretHash)>,
    by_subject: HashMap<String, Arc<User>>,
    checker: PasswordChecker,
}

impl std::fmt::Debug for ConfiguredUsers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfiguredUsers")
            .field("users", &self.by_subject.len())
            .finish_non_exhaustive()
    }
}

/// Verified when the user name is unknown, so that a miss costs what a wrong password costs
/// and response times do not reveal which accounts exist.
static DECOY: LazyLock<Option<SecretHash>> =
    LazyLock::new(|| SecretHash::argon2id_of("sigil decoy password").ok());

impl ConfiguredUsers {
    /// Indexes validated accounts (configuration loading rejects duplicates).
    pub fn new(accounts: Vec<UserAccount>) -> Self {
        let mut by_username = HashMap::new();
        let mut by_subject = HashMap::new();
        for account in accounts {
            let user = Arc::new(account.user);
            by_subject.insert(user.subject.clone(), Arc::clone(&user));
            by_username.insert(user.username.clone(), (user, account.password));
        }
        Self {
            by_username,
            by_subject,
            checker: PasswordChecker::start(),
        }
    }

    /// How many accounts there are.
    pub fn len(&self) -> usize {
        self.by_subject.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.by_subject.is_empty()
    }
}

#[async_trait]
impl UserStore for ConfiguredUsers {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Arc<User>>, UserStoreError> {
        let (user, hash) = match self.by_username.get(username) {
            Some((user, hash)) => (Some(Arc::clone(user)), hash.clone()),
            None => match DECOY.as_ref() {
                Some(decoy) => (None, decoy.clone()),
                None => return Ok(None),
            },
        };
        let matches = self.checker.check(hash, password.to_owned()).await?;
        Ok(user.filter(|_| matches))
    }

    async fn find(&self, subject: &str) -> Result<Option<Arc<User>>, UserStoreError> {
        Ok(self.by_subject.get(subject).cloned())
    }
}

/// One password check and where its answer goes.
struct Check {
    hash: SecretHash,
    password: String,
    answer: tokio::sync::oneshot::Sender<bool>,
}

/// A fixed set of threads, one per core, that check password hashes in turn.
struct PasswordChecker {
    queue: Mutex<mpsc::Sender<Check>>,
}

impl PasswordChecker {
    fn start() -> Self {
        let (sender, receiver) = mpsc::channel::<Check>();
        let receiver = Arc::new(Mutex::new(receiver));
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        for index in 0..threads {
            let receiver = Arc::clone(&receiver);
            let spawned = std::thread::Builder::new()
                .name(format!("sigil-password-{index}"))
                .spawn(move || {
                    loop {
                        let next = match receiver.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        let Ok(check) = next else { return };
                        let matches = check.hash.verify(&check.password);
                        let _ = check.answer.send(matches);
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(%error, "starting a password-check thread");
            }
        }
        Self {
            queue: Mutex::new(sender),
        }
    }

    async fn check(&self, hash: SecretHash, password: String) -> Result<bool, UserStoreError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let queued = self
            .queue
            .lock()
            .map_err(|_| UserStoreError("password checks stopped".to_owned()))?
            .send(Check {
                hash,
                password,
                answer,
            });
        queued.map_err(|_| UserStoreError("password checks stopped".to_owned()))?;
        answered
            .await
            .map_err(|_| UserStoreError("a password check failed".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    async fn right_password_signs_in_and_wrong_or_unknown_do_not() {
        let users = ConfiguredUsers::new(vec![account("a-id", "alice", "correct horse")]);
        let signed_in = users.authenticate("alice", "correct horse").await;
        assert_eq!(
            signed_in.ok().flatten().map(|user| user.subject.clone()),
            Some("a-id".to_owned())
        );
        assert!(matches!(
            users.authenticate("alice", "wrong").await,
            Ok(None)
        ));
        assert!(matches!(
            users.authenticate("mallory", "correct horse").await,
            Ok(None)
        ));
        assert!(matches!(users.find("a-id").await, Ok(Some(_))));
        assert!(
            matches!(users.find("alice").await, Ok(None)),
            "by subject only"
        );
    }

    #[tokio::test]
    async fn many_concurrent_checks_all_answer() {
        let users = Arc::new(ConfiguredUsers::new(vec![account("a-id", "alice", "pw")]));
        let checks: Vec<_> = (0..8)
            .map(|i| {
                let users = Arc::clone(&users);
                tokio::spawn(async move {
                    let password = if i % 2 == 0 { "pw" } else { "nope" };
                    users
                        .authenticate("alice", password)
                        .await
                        .ok()
                        .flatten()
                        .is_some()
                })
            })
            .collect();
        let mut accepted = 0;
        for check in checks {
            if check.await.unwrap_or(false) {
                accepted += 1;
            }
        }
        assert_eq!(accepted, 4);
    }
}
