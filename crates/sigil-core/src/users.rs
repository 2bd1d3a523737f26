//! The built-in [`UserStore`]: accounts from configuration, passwords as argon2id hashes.
//!
//! Checking a hash takes tens of milliseconds of CPU and 19 MiB of memory, so the checks go to
//! the [`SecretChecks`] the server shares with client and API secrets (`sigil-server`'s pool:
//! its own threads, one buffer each, bounded per user name and in total), never to a worker
//! that serves requests. This file only decides what is checked against what.

use crate::model::{User, UserStore, UserStoreError};
use crate::secret::{SecretChecks, SecretHash, SecretOwner};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

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
    checks: Arc<dyn SecretChecks>,
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
    /// Indexes validated accounts (configuration loading rejects duplicates); passwords are
    /// checked by `checks`.
    pub fn new(accounts: Vec<UserAccount>, checks: Arc<dyn SecretChecks>) -> Self {
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
            checks,
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
        let owner = SecretOwner::User(username.to_owned());
        let matches = self
            .checks
            .check(owner, vec![hash], password.to_owned())
            .await
            .map_err(UserStoreError::Busy)?;
        Ok(user.filter(|_| matches))
    }

    async fn find(&self, subject: &str) -> Result<Option<Arc<User>>, UserStoreError> {
        Ok(self.by_subject.get(subject).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::InlineChecks;

    fn users(accounts: Vec<UserAccount>) -> ConfiguredUsers {
        ConfiguredUsers::new(accounts, Arc::new(InlineChecks))
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
    async fn right_password_signs_in_and_wrong_or_unknown_do_not() {
        let users = users(vec![account("a-id", "alice", "correct horse")]);
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
}
