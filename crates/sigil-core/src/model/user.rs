//! Users who sign in, behind [`UserStore`] so that other user stores (a directory, a database)
//! can plug in. The built-in store, from configuration, is [`crate::users::ConfiguredUsers`];
//! it sends every argon2id check to a [`crate::secret::SecretChecks`], which a server runs on
//! a thread pool of its own.

use async_trait::async_trait;
use std::sync::Arc;

/// A user account.
#[derive(Debug, Clone)]
pub struct User {
    /// The stable subject identifier (`sub`).
    pub subject: String,
    /// What the user types to sign in.
    pub username: String,
    /// Claims such as `name`, `email`, `email_verified`, `roles`, released by identity scopes.
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// Why the user store could not answer (not "wrong password", which is `Ok(None)`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserStoreError {
    /// The password was not checked: too many checks are already in progress (for this
    /// account, or in all). Nothing is wrong with the account; the user may try again shortly.
    #[error("the password was not checked")]
    Busy(#[source] crate::secret::CheckRefused),
    /// The store failed.
    #[error("user store failure")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where users and their credentials live.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// The user if `password` is theirs; `None` for an unknown user or a wrong password,
    /// which callers must not tell apart (and which should take the same time).
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Arc<User>>, UserStoreError>;

    /// The user with this subject, if it (still) exists.
    async fn find(&self, subject: &str) -> Result<Option<Arc<User>>, UserStoreError>;
}
