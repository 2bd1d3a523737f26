//! Which loaded key signs: the one place the choice is made, so the rotation policy
//! (pending → active → retired, from a later issue) replaces this function and nothing else.
//!
//! The choice is a pure function of the key set and the time: every replica holding the same
//! keys picks the same one, and tests can pass any `now`.

use crate::{Algorithm, SigningKey};
use sigil_core::time::Timestamp;
use std::sync::Arc;

/// The newest key for `alg` already valid at `now`: greatest `not_before`, then greatest
/// `created`, then greatest `kid`, so ties are broken the same way everywhere.
pub(crate) fn newest_valid(
    keys: &[Arc<SigningKey>],
    alg: Algorithm,
    now: Timestamp,
) -> Option<&Arc<SigningKey>> {
    keys.iter()
        .filter(|key| key.alg() == alg && key.not_before() <= now)
        .max_by(|a, b| {
            (a.not_before(), a.created(), a.kid()).cmp(&(b.not_before(), b.created(), b.kid()))
        })
}
