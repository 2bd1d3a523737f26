//! The key ring: the loaded keys, where each is in its lifecycle, the key that signs, the JWKS
//! that publishes them, and the session secrets that seal cookies.

use crate::policy::{self, KeyState, RotationPolicy, Timeline};
use crate::seal::{self, SealError};
use crate::{Algorithm, KeyRingError, KeySet, SessionSecret, SigningAlgorithms, SigningKey, jws};
use aws_lc_rs::rand::SystemRandom;
use bytes::Bytes;
use sigil_core::signing::{SigningError, TokenSigner, VerifiedJwt, VerifyError};
use sigil_core::time::Timestamp;
use std::sync::Arc;

/// A key with what the ring knows beyond the source: when it left the source, if it did.
#[derive(Debug, Clone)]
struct Held<T> {
    item: Arc<T>,
    removed: Option<Timestamp>,
}

/// An immutable set of keys and session secrets, built from one load of the source at one
/// moment, that signs with the configured [`SigningAlgorithms`] under a [`RotationPolicy`].
///
/// Each algorithm's keys form their own chain. Which key signs for an algorithm is decided per
/// call from the keys' times and the clock ([`active`](Self::active)), so pods agree to the
/// second without talking. Which keys are published (JWKS, verification) is decided when the
/// ring is built: pending, active, and
/// retired keys the source still holds or whose retention has not ended (see
/// [`KeyState::is_published`]). A key that disappears from the source while still
/// published is kept, never signing, for the retention period
/// ([`rebuild`](Self::rebuild)): removing a key early must not reject the tokens it signed.
/// A refresher builds a new ring and swaps it in whole ([`crate::SharedKeyRing`]).
pub struct KeyRing {
    keys: Vec<Held<SigningKey>>,
    secrets: Vec<Held<SessionSecret>>,
    published: Vec<Arc<SigningKey>>,
    algorithms: SigningAlgorithms,
    policy: RotationPolicy,
    built_at: Timestamp,
    jwks: Bytes,
    rng: SystemRandom,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("keys", &self.keys)
            .field("secrets", &self.secrets)
            .field("algorithms", &self.algorithms)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// A ring over `set` at the current time, with no earlier ring.
    pub fn new(
        set: KeySet,
        algorithms: impl Into<SigningAlgorithms>,
        policy: RotationPolicy,
    ) -> Result<Self, KeyRingError> {
        Self::build(set, algorithms, policy, Timestamp::now(), None)
    }

    /// A ring with no keys: it signs nothing, and its JWKS is empty (which is not to be served:
    /// see [`SharedKeyRing::published_jwks`](crate::SharedKeyRing::published_jwks)).
    pub fn empty(algorithms: impl Into<SigningAlgorithms>, policy: RotationPolicy) -> Self {
        Self {
            keys: Vec::new(),
            secrets: Vec::new(),
            published: Vec::new(),
            algorithms: algorithms.into(),
            policy,
            built_at: Timestamp::now(),
            jwks: Bytes::from_static(br#"{"keys":[]}"#),
            rng: SystemRandom::new(),
        }
    }

    /// A ring over a fresh load of the source that keeps this ring's algorithms and policy,
    /// and carries over, as removed, keys and secrets this ring still published that the
    /// new set lacks.
    pub fn rebuild(&self, set: KeySet, now: Timestamp) -> Result<Self, KeyRingError> {
        Self::build(set, self.algorithms.clone(), self.policy, now, Some(self))
    }

    /// A ring over `set` as of `now`. Refuses two keys with the same `kid` (the same key
    /// material loaded twice) and two secrets with the same id.
    pub fn build(
        set: KeySet,
        algorithms: impl Into<SigningAlgorithms>,
        policy: RotationPolicy,
        now: Timestamp,
        previous: Option<&KeyRing>,
    ) -> Result<Self, KeyRingError> {
        let mut keys: Vec<Held<SigningKey>> = held(set.signing);
        let mut secrets: Vec<Held<SessionSecret>> = held(set.secrets);
        if let Some(duplicate) = first_duplicate(keys.iter().map(|key| key.item.kid())) {
            return Err(KeyRingError::DuplicateKid(duplicate.to_owned()));
        }
        if let Some(duplicate) = first_duplicate(secrets.iter().map(|secret| secret.item.id())) {
            return Err(KeyRingError::DuplicateSecret(duplicate.to_owned()));
        }
        if let Some(previous) = previous {
            for (key, state) in previous.key_states(now) {
                let gone = !keys.iter().any(|held| held.item.kid() == key.item.kid());
                if gone && state.is_published(now) && !state.past_retention(now) {
                    if key.removed.is_none() {
                        tracing::warn!(
                            kid = key.item.kid(),
                            "a published signing key left the source; it stays published for the retention period and never signs again"
                        );
                    }
                    keys.push(Held {
                        item: Arc::clone(&key.item),
                        removed: key.removed.or(Some(now)),
                    });
                }
            }
            for (secret, state) in previous.secret_states(now) {
                let gone = !secrets
                    .iter()
                    .any(|held| held.item.id() == secret.item.id());
                if gone && state.is_published(now) && !state.past_retention(now) {
                    secrets.push(Held {
                        item: Arc::clone(&secret.item),
                        removed: secret.removed.or(Some(now)),
                    });
                }
            }
        }
        let mut ring = Self {
            keys,
            secrets,
            published: Vec::new(),
            algorithms: algorithms.into(),
            policy,
            built_at: now,
            jwks: Bytes::new(),
            rng: SystemRandom::new(),
        };
        ring.published = ring
            .key_states(now)
            .into_iter()
            .filter(|(_, state)| state.is_published(now))
            .map(|(key, _)| Arc::clone(&key.item))
            .collect();
        let published: Vec<String> = ring
            .published
            .iter()
            .map(|key| key.public_jwk().to_string())
            .collect();
        ring.jwks = Bytes::from(format!(r#"{{"keys":[{}]}}"#, published.join(",")));
        Ok(ring)
    }

    /// The key that signs `alg` at `now`: the newest key past its propagation period (see
    /// [`RotationPolicy`]). The same keys and time give the same answer on every pod.
    pub fn active(&self, alg: Algorithm, now: Timestamp) -> Option<&Arc<SigningKey>> {
        let (index, _) = self.choose(alg, now)?;
        self.keys.get(index).map(|held| &held.item)
    }

    /// True if a key that signs at `now` has not finished its propagation period: for one of
    /// the configured algorithms no key is ready, and the one closest to ready signs instead.
    pub fn signs_with_unpropagated_key(&self, now: Timestamp) -> bool {
        self.algorithms
            .all()
            .iter()
            .any(|alg| self.choose(*alg, now).is_some_and(|(_, fallback)| fallback))
    }

    /// The first configured algorithm that no key can sign with at `now`, if any: a ring
    /// with one is not fit to serve.
    pub fn missing_algorithm(&self, now: Timestamp) -> Option<Algorithm> {
        self.algorithms
            .all()
            .iter()
            .copied()
            .find(|alg| self.choose(*alg, now).is_none())
    }

    /// The index in `keys` of the key that signs `alg` at `now`, and whether it is a
    /// fallback. Allocates nothing: it runs for every token signed.
    fn choose(&self, alg: Algorithm, now: Timestamp) -> Option<(usize, bool)> {
        let candidates = self
            .keys
            .iter()
            .enumerate()
            .filter(move |(_, held)| held.item.alg() == alg)
            .map(|(index, held)| (key_timeline(held), (held.item.kid(), index)));
        policy::choose(candidates, &self.policy, now)
            .map(|((_, index), fallback)| (index, fallback))
    }

    /// Every key (including removed ones still published) with its state at `now`.
    pub fn states(&self, now: Timestamp) -> Vec<(Arc<SigningKey>, KeyState)> {
        self.key_states(now)
            .into_iter()
            .map(|(key, state)| (Arc::clone(&key.item), state))
            .collect()
    }

    /// The session secrets with their states at `now`.
    pub fn session_secrets(&self, now: Timestamp) -> Vec<(&SessionSecret, KeyState)> {
        self.secret_states(now)
            .into_iter()
            .map(|(secret, state)| (secret.item.as_ref(), state))
            .collect()
    }

    fn key_states(&self, now: Timestamp) -> Vec<(&Held<SigningKey>, KeyState)> {
        let mut out = Vec::with_capacity(self.keys.len());
        for alg in Algorithm::ALL {
            let group: Vec<&Held<SigningKey>> = self
                .keys
                .iter()
                .filter(|held| held.item.alg() == alg)
                .collect();
            let timelines: Vec<_> = group
                .iter()
                .map(|held| (key_timeline(held), held.item.kid()))
                .collect();
            let states = policy::states(&timelines, &self.policy, now);
            out.extend(group.into_iter().zip(states));
        }
        out
    }

    fn secret_states(&self, now: Timestamp) -> Vec<(&Held<SessionSecret>, KeyState)> {
        let timelines: Vec<_> = self
            .secrets
            .iter()
            .map(|held| (secret_timeline(held), held.item.id()))
            .collect();
        let states = policy::states(&timelines, &self.policy, now);
        self.secrets.iter().zip(states).collect()
    }

    /// The algorithm access tokens are signed with.
    pub fn signing_alg(&self) -> Algorithm {
        self.algorithms.access_token()
    }

    /// Every algorithm this ring signs with.
    pub fn algorithms(&self) -> &SigningAlgorithms {
        &self.algorithms
    }

    /// The rotation policy.
    pub fn policy(&self) -> &RotationPolicy {
        &self.policy
    }

    /// When this ring was built (its JWKS is as of then).
    pub fn built_at(&self) -> Timestamp {
        self.built_at
    }

    /// The published keys: pending, active, and retired within retention, as of
    /// [`built_at`](Self::built_at).
    pub fn keys(&self) -> &[Arc<SigningKey>] {
        &self.published
    }

    /// The published key with this `kid`.
    pub fn key(&self, kid: &str) -> Option<&Arc<SigningKey>> {
        self.published.iter().find(|key| key.kid() == kid)
    }

    /// The JWKS document (`{"keys":[...]}`, public members only, the published keys),
    /// serialized when the ring was built; cloning the bytes is a reference-count increment.
    pub fn jwks_json(&self) -> Bytes {
        self.jwks.clone()
    }

    /// Signs with the access-token algorithm's key active at `now` (the [`TokenSigner`] impl
    /// passes the clock).
    pub async fn sign_at(
        &self,
        typ: &str,
        claims_json: &[u8],
        now: Timestamp,
    ) -> Result<String, SigningError> {
        self.sign_with_at(self.signing_alg(), typ, claims_json, now)
            .await
    }

    /// Signs with the key for `alg` active at `now`.
    pub async fn sign_with_at(
        &self,
        alg: Algorithm,
        typ: &str,
        claims_json: &[u8],
        now: Timestamp,
    ) -> Result<String, SigningError> {
        let key = self
            .active(alg, now)
            .ok_or_else(|| SigningError::NoActiveKey(alg.to_string()))?;
        jws::sign(key, &self.rng, typ, claims_json).await
    }

    /// Seals `plaintext` for `purpose` (such as `"session"` or `"csrf"`) with the session
    /// secret active at `now`.
    pub fn seal_at(
        &self,
        purpose: &str,
        plaintext: &[u8],
        now: Timestamp,
    ) -> Result<String, SealError> {
        let timelines: Vec<_> = self
            .secrets
            .iter()
            .map(|held| (secret_timeline(held), held.item.id()))
            .collect();
        let (index, _) =
            policy::active_index(&timelines, &self.policy, now).ok_or(SealError::NoSecret)?;
        let secret = self.secrets.get(index).ok_or(SealError::NoSecret)?;
        seal::seal(&secret.item, purpose, plaintext)
    }

    /// Opens a value sealed for `purpose` by any pod with a session secret this ring still
    /// accepts (pending, active, or retired within retention).
    pub fn open(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let id = seal::secret_id(sealed)?;
        let (secret, _) = self
            .secret_states(self.built_at)
            .into_iter()
            .find(|(held, state)| held.item.id() == id && state.is_published(self.built_at))
            .ok_or(SealError::Invalid)?;
        seal::open(&secret.item, purpose, sealed)
    }
}

fn held<T>(items: Vec<T>) -> Vec<Held<T>> {
    items
        .into_iter()
        .map(|item| Held {
            item: Arc::new(item),
            removed: None,
        })
        .collect()
}

fn first_duplicate<'a>(ids: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().find(|id| !seen.insert(*id))
}

fn key_timeline(held: &Held<SigningKey>) -> Timeline {
    Timeline {
        created: held.item.created(),
        not_before: held.item.not_before(),
        expires: held.item.expires(),
        removed: held.removed,
    }
}

fn secret_timeline(held: &Held<SessionSecret>) -> Timeline {
    Timeline {
        created: held.item.created(),
        not_before: held.item.not_before(),
        expires: None,
        removed: held.removed,
    }
}

#[async_trait::async_trait]
impl TokenSigner for KeyRing {
    async fn sign_with(
        &self,
        alg: Algorithm,
        typ: &str,
        claims_json: &[u8],
    ) -> Result<String, SigningError> {
        self.sign_with_at(alg, typ, claims_json, Timestamp::now())
            .await
    }

    fn access_token_algorithm(&self) -> Algorithm {
        self.signing_alg()
    }

    fn verify(&self, token: &str) -> Result<VerifiedJwt, VerifyError> {
        jws::verify(token, |kid| self.key(kid).map(Arc::as_ref))
    }
}
