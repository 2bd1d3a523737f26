//! The key ring: the loaded keys, which one signs, and the JWKS that publishes them.

use crate::{Algorithm, KeyRingError, SigningKey, activation, jws};
use aws_lc_rs::rand::SystemRandom;
use bytes::Bytes;
use sigil_core::signing::{SigningError, TokenSigner, VerifiedJwt, VerifyError};
use sigil_core::time::Timestamp;
use std::sync::Arc;

/// An immutable set of parsed keys that signs with one configured algorithm.
///
/// Every key is published in the JWKS and accepted by [`verify`](TokenSigner::verify), even
/// one not yet valid for signing, so that validators learn a new key before it signs. A
/// refresher builds a new ring and swaps it in whole ([`crate::SharedKeyRing`]); requests never
/// see a half-updated set.
pub struct KeyRing {
    keys: Vec<Arc<SigningKey>>,
    signing_alg: Algorithm,
    jwks: Bytes,
    rng: SystemRandom,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("keys", &self.keys)
            .field("signing_alg", &self.signing_alg)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// A ring over `keys` that signs with `signing_alg`; the JWKS is serialized here, once.
    /// Refuses two keys with the same `kid` (the same key material loaded twice).
    pub fn new(keys: Vec<SigningKey>, signing_alg: Algorithm) -> Result<Self, KeyRingError> {
        let keys: Vec<Arc<SigningKey>> = keys.into_iter().map(Arc::new).collect();
        for (index, key) in keys.iter().enumerate() {
            if keys
                .iter()
                .skip(index + 1)
                .any(|other| other.kid() == key.kid())
            {
                return Err(KeyRingError::DuplicateKid(key.kid().to_owned()));
            }
        }
        let published: Vec<String> = keys
            .iter()
            .map(|key| key.public_jwk().to_string())
            .collect();
        let jwks = Bytes::from(format!(r#"{{"keys":[{}]}}"#, published.join(",")));
        Ok(Self {
            keys,
            signing_alg,
            jwks,
            rng: SystemRandom::new(),
        })
    }

    /// The key that signs `alg` at `now`: of the keys for `alg` whose `not_before` has come,
    /// the one with the greatest `not_before` (then `created`, then `kid`). The same keys and
    /// time give the same answer on every replica.
    pub fn active(&self, alg: Algorithm, now: Timestamp) -> Option<&Arc<SigningKey>> {
        activation::newest_valid(&self.keys, alg, now)
    }

    /// The algorithm tokens are signed with.
    pub fn signing_alg(&self) -> Algorithm {
        self.signing_alg
    }

    /// Every loaded key, in the order the source returned them.
    pub fn keys(&self) -> &[Arc<SigningKey>] {
        &self.keys
    }

    /// The key with this `kid`.
    pub fn key(&self, kid: &str) -> Option<&Arc<SigningKey>> {
        self.keys.iter().find(|key| key.kid() == kid)
    }

    /// The JWKS document (`{"keys":[...]}`, public members only), serialized when the ring was
    /// built; cloning the bytes is a reference-count increment.
    pub fn jwks_json(&self) -> Bytes {
        self.jwks.clone()
    }

    /// Signs with the key active at `now` (the [`TokenSigner`] impl passes the clock).
    pub fn sign_at(
        &self,
        typ: &str,
        claims_json: &[u8],
        now: Timestamp,
    ) -> Result<String, SigningError> {
        let key = self
            .active(self.signing_alg, now)
            .ok_or_else(|| SigningError::NoActiveKey(self.signing_alg.to_string()))?;
        jws::sign(key, &self.rng, typ, claims_json)
    }
}

impl TokenSigner for KeyRing {
    fn sign(&self, typ: &str, claims_json: &[u8]) -> Result<String, SigningError> {
        self.sign_at(typ, claims_json, Timestamp::now())
    }

    fn verify(&self, token: &str) -> Result<VerifiedJwt, VerifyError> {
        jws::verify(token, |kid| self.key(kid).map(Arc::as_ref))
    }
}
