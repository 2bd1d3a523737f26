//! A key ring many readers share and one refresher replaces, with the refresher's health.
//! It is what the rest of Sigil holds: it implements the core's [`TokenSigner`], [`Sealer`]
//! and [`PublishedKeys`] directly.

use crate::{
    Algorithm, KeyRing, KeyRingError, KeySource, RotationPolicy, SealError, SigningAlgorithms,
};
use arc_swap::ArcSwap;
use bytes::Bytes;
use sigil_core::published_keys::{KeysNotLoaded, PublishedKeys};
use sigil_core::sealing::{SealFailure, Sealer};
use sigil_core::signing::{SigningError, TokenSigner, VerifiedJwt, VerifyError};
use sigil_core::time::Timestamp;
use std::sync::{Arc, Mutex, PoisonError};

/// The current [`KeyRing`] behind an atomically swapped pointer: requests read it without
/// locking, and one refresher swaps in a new ring whole. Cloning shares the same ring.
///
/// It starts either loaded ([`load`](Self::load)) or empty ([`empty`](Self::empty), for a
/// process that starts while its key source is unreachable and must not sign until it has
/// keys). Once a ring with an active key is in, a failed reload never replaces it: pods keep
/// signing with the last good set through a source outage, and [`status`](Self::status) says
/// how stale it is.
#[derive(Clone)]
pub struct SharedKeyRing {
    current: Arc<ArcSwap<KeyRing>>,
    status: Arc<Mutex<RefreshStatus>>,
}

/// How the key source has been answering.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshStatus {
    /// When keys were last loaded successfully; `None` if never.
    pub last_success: Option<Timestamp>,
    /// When the last load failed, and why (the error chain, no secrets).
    pub last_error: Option<(Timestamp, String)>,
    /// Failed loads since the last success.
    pub consecutive_failures: u64,
    /// Failed loads since start.
    pub failures: u64,
}

impl RefreshStatus {
    /// True once any load succeeded.
    pub fn ever_loaded(&self) -> bool {
        self.last_success.is_some()
    }
}

impl std::fmt::Debug for SharedKeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SharedKeyRing")
            .field(&*self.current.load())
            .finish()
    }
}

impl SharedKeyRing {
    /// Shares `ring`, counted as loaded now.
    pub fn new(ring: KeyRing) -> Self {
        let loaded = Self::empty_with(ring);
        loaded.lock_status().last_success = Some(Timestamp::now());
        loaded
    }

    /// A ring with no keys yet: signing fails, the JWKS is withheld and readiness should fail
    /// too, until a reload succeeds.
    pub fn empty(algorithms: impl Into<SigningAlgorithms>, policy: RotationPolicy) -> Self {
        Self::empty_with(KeyRing::empty(algorithms, policy))
    }

    fn empty_with(ring: KeyRing) -> Self {
        Self {
            current: Arc::new(ArcSwap::from_pointee(ring)),
            status: Arc::new(Mutex::new(RefreshStatus::default())),
        }
    }

    /// Loads keys from `source` into a ring that signs with `algorithms` under `policy`, and
    /// checks that a key can sign with each of them now.
    pub async fn load(
        source: &dyn KeySource,
        algorithms: impl Into<SigningAlgorithms>,
        policy: RotationPolicy,
    ) -> Result<Self, KeyRingError> {
        let shared = Self::empty(algorithms, policy);
        shared.reload(source).await?;
        Ok(shared)
    }

    /// Loads `source` again and swaps in a ring rebuilt from the current one (keeping its
    /// algorithms and policy, and keys removed from the source while still published). If the
    /// load fails or the new keys cannot sign with every algorithm now, the current ring
    /// stays, the failure is recorded in [`status`](Self::status) and returned.
    pub async fn reload(&self, source: &dyn KeySource) -> Result<(), KeyRingError> {
        let result = self.try_reload(source).await;
        let now = Timestamp::now();
        let mut status = self.lock_status();
        match &result {
            Ok(()) => {
                status.last_success = Some(now);
                status.consecutive_failures = 0;
            }
            Err(error) => {
                status.last_error = Some((now, error_chain(error)));
                status.consecutive_failures += 1;
                status.failures += 1;
            }
        }
        result
    }

    async fn try_reload(&self, source: &dyn KeySource) -> Result<(), KeyRingError> {
        let set = source.load().await.map_err(|error| KeyRingError::Load {
            source_name: source.describe(),
            source: error,
        })?;
        let now = Timestamp::now();
        let current = self.current.load_full();
        let ring = current.rebuild(set, now)?;
        if let Some(alg) = ring.missing_algorithm(now) {
            return Err(KeyRingError::NoActiveKey { alg });
        }
        let alg = ring.signing_alg();
        let before: Vec<&str> = current.keys().iter().map(|key| key.kid()).collect();
        let after: Vec<&str> = ring.keys().iter().map(|key| key.kid()).collect();
        if before != after {
            tracing::info!(published = ?after, active = ?ring.active(alg, now).map(|key| key.kid()), "key set changed");
        }
        self.current.store(Arc::new(ring));
        Ok(())
    }

    /// The current ring.
    pub fn current(&self) -> Arc<KeyRing> {
        self.current.load_full()
    }

    /// Replaces the ring. Requests already holding the old one finish with it.
    pub fn replace(&self, ring: KeyRing) {
        self.current.store(Arc::new(ring));
    }

    /// How the source has been answering.
    pub fn status(&self) -> RefreshStatus {
        self.lock_status().clone()
    }

    fn lock_status(&self) -> std::sync::MutexGuard<'_, RefreshStatus> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The id of the key that signs access tokens now.
    pub fn active_kid(&self) -> Option<String> {
        let ring = self.current.load();
        ring.active(ring.signing_alg(), Timestamp::now())
            .map(|key| key.kid().to_owned())
    }

    /// The current JWKS document.
    pub fn jwks_json(&self) -> Bytes {
        self.current.load().jwks_json()
    }

    /// The current JWKS document, or `None` while it would publish no key at all (no key set
    /// loaded yet): an empty key set must never be served where a validator could cache it.
    pub fn published_jwks(&self) -> Option<Bytes> {
        let ring = self.current.load();
        (!ring.keys().is_empty()).then(|| ring.jwks_json())
    }

    /// Seals `plaintext` for `purpose` with the session secret active now.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> Result<String, SealError> {
        self.current
            .load()
            .seal_at(purpose, plaintext, Timestamp::now())
    }

    /// Opens a value any pod sealed for `purpose`.
    pub fn open(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        self.current.load().open(purpose, sealed)
    }
}

/// `error: cause: cause`, as `{:#}` would print it with anyhow.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

#[async_trait::async_trait]
impl TokenSigner for SharedKeyRing {
    async fn sign_with(
        &self,
        alg: Algorithm,
        typ: &str,
        claims_json: &[u8],
    ) -> Result<String, SigningError> {
        let ring = self.current.load_full();
        ring.sign_with(alg, typ, claims_json).await
    }

    fn access_token_algorithm(&self) -> Algorithm {
        self.current.load().signing_alg()
    }

    fn verify(&self, token: &str) -> Result<VerifiedJwt, VerifyError> {
        self.current.load().verify(token)
    }
}

impl Sealer for SharedKeyRing {
    fn seal(&self, purpose: &str, plaintext: &[u8]) -> Result<String, SealFailure> {
        SharedKeyRing::seal(self, purpose, plaintext).map_err(|error| match error {
            SealError::NoSecret => SealFailure::NoSecret,
            error => SealFailure::Failed(Box::new(error)),
        })
    }

    fn open(&self, purpose: &str, sealed: &str) -> Option<Vec<u8>> {
        SharedKeyRing::open(self, purpose, sealed).ok()
    }
}

impl PublishedKeys for SharedKeyRing {
    fn jwks_json(&self) -> Option<Bytes> {
        self.published_jwks()
    }

    fn loaded(&self) -> Result<(), KeysNotLoaded> {
        let status = self.status();
        if status.ever_loaded() {
            return Ok(());
        }
        Err(KeysNotLoaded {
            last_error: status.last_error.map(|(_, error)| error),
        })
    }
}
