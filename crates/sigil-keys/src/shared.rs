//! A key ring many readers share and one refresher replaces.

use crate::{Algorithm, KeyRing, KeySource, KeySourceError};
use arc_swap::ArcSwap;
use bytes::Bytes;
use sigil_core::signing::{SigningError, TokenSigner, VerifiedJwt, VerifyError};
use sigil_core::time::Timestamp;
use std::sync::Arc;

/// The current [`KeyRing`] behind a lock-free pointer: requests read it without waiting, a
/// refresher swaps in a new ring whole.
#[derive(Clone)]
pub struct SharedKeyRing {
    current: Arc<ArcSwap<KeyRing>>,
}

impl SharedKeyRing {
    /// Shares `ring`.
    pub fn new(ring: KeyRing) -> Self {
        Self {
            current: Arc::new(ArcSwap::from_pointee(ring)),
        }
    }

    /// Loads keys from `source` and checks that one can sign `alg` now.
    pub async fn load(source: &dyn KeySource, alg: Algorithm) -> Result<Self, KeySourceError> {
        let keys = source.load().await?;
        let ring = KeyRing::new(keys, alg).map_err(|e| KeySourceError::InvalidMetadata {
            path: source.describe(),
            reason: e.to_string(),
        })?;
        if ring.active(alg, Timestamp::now()).is_none() {
            return Err(KeySourceError::Empty(format!(
                "{} (no {alg} key valid now)",
                source.describe()
            )));
        }
        Ok(Self::new(ring))
    }

    /// The current ring.
    pub fn current(&self) -> Arc<KeyRing> {
        self.current.load_full()
    }

    /// Replaces the ring.
    pub fn replace(&self, ring: KeyRing) {
        self.current.store(Arc::new(ring));
    }

    /// The id of the key that signs now.
    pub fn active_kid(&self) -> Option<String> {
        let ring = self.current.load();
        ring.active(ring.signing_alg(), Timestamp::now())
            .map(|key| key.kid().to_owned())
    }

    /// The current JWKS document.
    pub fn jwks_json(&self) -> Bytes {
        self.current.load().jwks_json()
    }
}

impl TokenSigner for SharedKeyRing {
    fn sign(&self, typ: &str, claims_json: &[u8]) -> Result<String, SigningError> {
        self.current.load().sign(typ, claims_json)
    }

    fn verify(&self, token: &str) -> Result<VerifiedJwt, VerifyError> {
        self.current.load().verify(token)
    }
}
