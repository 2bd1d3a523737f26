//! Checking presented secrets against stored hashes without letting the expensive ones
//! (argon2id) stall the server.
//!
//! SHA-256 digests are compared on the spot. Argon2id hashes go to a [`SecretChecks`]
//! implementation: the server runs them on a few threads of its own and bounds how many one
//! owner (a client, an API, a user name) and everyone together may have waiting, so a flood
//! of guesses against one client is refused at once instead of queueing without end, and no
//! other request waits behind it. The core has no runtime, so it only states the contract.

use super::{HashMemory, SecretHash};
use async_trait::async_trait;

/// Whose secret is checked: the unit the per-owner bound applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SecretOwner {
    /// A client, by id.
    Client(String),
    /// An API resource (introspection), by identifier.
    ApiResource(String),
    /// A user signing in, by the user name typed (known or not).
    User(String),
}

impl std::fmt::Display for SecretOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Client(id) => write!(f, "client {id}"),
            Self::ApiResource(id) => write!(f, "API {id}"),
            Self::User(name) => write!(f, "user {name}"),
        }
    }
}

/// Why an expensive check was not run. Nothing was learnt about the secret: callers answer
/// "try again later", never "wrong secret".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckRefused {
    /// This owner already has as many checks waiting or running as it may.
    #[error("too many checks of this secret are in progress")]
    OwnerBusy,
    /// As many checks as the server allows are waiting or running.
    #[error("too many secret checks are in progress")]
    Overloaded,
    /// The checking threads are gone (the process is stopping).
    #[error("secret checks have stopped")]
    Stopped,
}

/// Runs expensive (argon2id) secret checks away from the threads that serve requests, with
/// bounded concurrency per owner and in total.
#[async_trait]
pub trait SecretChecks: Send + Sync + 'static {
    /// True if `presented` matches one of `hashes` (each one is checked, so the time taken
    /// does not tell which); refused at once, without checking, when a bound is reached.
    async fn check(
        &self,
        owner: SecretOwner,
        hashes: Vec<SecretHash>,
        presented: String,
    ) -> Result<bool, CheckRefused>;
}

/// Checks on the calling thread, unbounded: for tests and one-shot tools, never for a server.
#[derive(Debug, Default, Clone, Copy)]
pub struct InlineChecks;

#[async_trait]
impl SecretChecks for InlineChecks {
    async fn check(
        &self,
        _owner: SecretOwner,
        hashes: Vec<SecretHash>,
        presented: String,
    ) -> Result<bool, CheckRefused> {
        let mut memory = HashMemory::default();
        // A hash that cannot be checked matches nothing (see `SecretHash::verify`).
        Ok(hashes.iter().fold(false, |found, hash| {
            hash.verify_with(&presented, &mut memory).unwrap_or(false) | found
        }))
    }
}

/// True if `presented` matches any of `stored`. SHA-256 digests are all compared here, in
/// constant time; only if none matches are the argon2id hashes sent to `checks`, as one job.
/// (Success is visible to the caller anyway, so skipping the slow check after a fast match
/// reveals nothing.)
pub async fn matches_any(
    stored: &[SecretHash],
    presented: &str,
    owner: SecretOwner,
    checks: &dyn SecretChecks,
) -> Result<bool, CheckRefused> {
    let (expensive, cheap): (Vec<&SecretHash>, Vec<&SecretHash>) =
        stored.iter().partition(|hash| hash.is_expensive());
    let mut memory = HashMemory::default();
    // SHA-256 digests are always checkable.
    let matched = cheap.iter().fold(false, |found, hash| {
        hash.verify_with(presented, &mut memory).unwrap_or(false) | found
    });
    if matched || expensive.is_empty() {
        return Ok(matched);
    }
    let expensive = expensive.into_iter().cloned().collect();
    checks.check(owner, expensive, presented.to_owned()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Records what reaches it; refuses when told to.
    #[derive(Default)]
    struct Recorder {
        seen: Mutex<Vec<(SecretOwner, usize)>>,
        refuse: bool,
    }

    #[async_trait]
    impl SecretChecks for Recorder {
        async fn check(
            &self,
            owner: SecretOwner,
            hashes: Vec<SecretHash>,
            presented: String,
        ) -> Result<bool, CheckRefused> {
            self.seen
                .lock()
                .unwrap()
                .push((owner.clone(), hashes.len()));
            if self.refuse {
                return Err(CheckRefused::OwnerBusy);
            }
            InlineChecks.check(owner, hashes, presented).await
        }
    }

    fn owner() -> SecretOwner {
        SecretOwner::Client("app".into())
    }

    #[tokio::test]
    async fn sha256_secrets_never_reach_the_expensive_checks() {
        let checks = Recorder::default();
        let stored = [SecretHash::sha256_of("a"), SecretHash::sha256_of("b")];
        assert_eq!(matches_any(&stored, "b", owner(), &checks).await, Ok(true));
        assert_eq!(matches_any(&stored, "c", owner(), &checks).await, Ok(false));
        assert!(checks.seen.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn argon2id_secrets_are_checked_by_the_checker_as_one_job() {
        let checks = Recorder::default();
        let stored = [
            SecretHash::sha256_of("generated"),
            SecretHash::argon2id_of("chosen one").unwrap(),
            SecretHash::argon2id_of("chosen two").unwrap(),
        ];
        assert_eq!(
            matches_any(&stored, "chosen two", owner(), &checks).await,
            Ok(true)
        );
        assert_eq!(
            matches_any(&stored, "nope", owner(), &checks).await,
            Ok(false)
        );
        // A match on the SHA-256 secret needs no argon2id check.
        assert_eq!(
            matches_any(&stored, "generated", owner(), &checks).await,
            Ok(true)
        );
        assert_eq!(
            *checks.seen.lock().unwrap(),
            vec![(owner(), 2), (owner(), 2)]
        );
    }

    #[tokio::test]
    async fn a_refused_check_is_not_a_wrong_secret() {
        let checks = Recorder {
            refuse: true,
            ..Recorder::default()
        };
        let stored = [SecretHash::argon2id_of("chosen").unwrap()];
        assert_eq!(
            matches_any(&stored, "chosen", owner(), &checks).await,
            Err(CheckRefused::OwnerBusy)
        );
    }
}
