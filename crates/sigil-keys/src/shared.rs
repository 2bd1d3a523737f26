//! A key ring many readers share and one refresher replaces.

use crate::{Algorithm, KeyRing, KeyRingError, KeySource};
use arc_swap::ArcSwap;
use bytes::Bytes;
use sigil_core::signing::{SigningError, TokenSigner, VerifiedJwt, VerifyError};
use sigil_core::time::Timestamp;
use std::sync::Arc;

/// The current [`KeyRing`] behind an atomically swapped pointer: requests read it without
/// locking, and one refresher swaps in a new ring whole. Cloning shares the same ring.
#[derive(Clone)]
pub struct SharedKeyRing {
    current: Arc<ArcSwap<KeyRing>>,
}

impl std::fmt::Debug for SharedKeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SharedKeyRing")
            .field(&*self.current.load())
            .finish()
    }
}

impl SharedKeyRing {
    /// Shares `ring`.
    pub fn new(ring: KeyRing) -> Self {
        Self {
            current: Arc::new(ArcSwap::from_pointee(ring)),
        }
    }

    /// Loads keys from `source` into a ring that signs with `alg`, and checks that a key can
    /// sign with it now.
    pub async fn load(source: &dyn KeySource, alg: Algorithm) -> Result<Self, KeyRingError> {
        Ok(Self::new(build(source, alg).await?))
    }

    /// Loads `source` again and swaps the new ring in, keeping the signing algorithm. If the
    /// new keys cannot sign now, the current ring stays and the error is returned.
    pub async fn reload(&self, source: &dyn KeySource) -> Result<(), KeyRingError> {
        let alg = self.current.load().signing_alg();
        self.replace(build(source, alg).await?);
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

async fn build(source: &dyn KeySource, alg: Algorithm) -> Result<KeyRing, KeyRingError> {
    let keys = source.load().await.map_err(|error| KeyRingError::Load {
        source_name: source.describe(),
        source: error,
    })?;
    let ring = KeyRing::new(keys, alg)?;
    if ring.active(alg, Timestamp::now()).is_none() {
        return Err(KeyRingError::NoActiveKey { alg });
    }
    Ok(ring)
}

impl TokenSigner for SharedKeyRing {
    fn sign(&self, typ: &str, claims_json: &[u8]) -> Result<String, SigningError> {
        self.current.load().sign(typ, claims_json)
    }

    fn verify(&self, token: &str) -> Result<VerifiedJwt, VerifyError> {
        self.current.load().verify(token)
    }
}
