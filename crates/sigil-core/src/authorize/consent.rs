//! Remembered consent: one grant-store record per (user, client) listing the scopes the user
//! agreed to. Revoking a user's grants by subject forgets it too.

use crate::handle::GrantKey;
use crate::store::{Grant, GrantKind, GrantStore, PutOutcome, RevokeTarget, StoreError};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Serialize, Deserialize)]
struct ConsentPayload {
    scopes: Vec<String>,
}

fn consent_key(subject: &str, client_id: &str) -> GrantKey {
    GrantKey::derived("consent", &[subject, client_id])
}

/// The scopes `subject` has agreed to give `client_id`, if any are remembered.
pub(crate) async fn remembered(
    store: &dyn GrantStore,
    subject: &str,
    client_id: &str,
) -> Result<Vec<String>, StoreError> {
    let Some(grant) = store.get(&consent_key(subject, client_id)).await? else {
        return Ok(Vec::new());
    };
    if grant.kind != GrantKind::Consent {
        return Ok(Vec::new());
    }
    Ok(serde_json::from_slice::<ConsentPayload>(&grant.payload)
        .map(|payload| payload.scopes)
        .unwrap_or_default())
}

/// Remembers consent to `scopes`, added to what was remembered before.
pub(crate) async fn remember(
    store: &dyn GrantStore,
    subject: &str,
    client_id: &str,
    scopes: &[String],
    lifetime: Duration,
    now: Timestamp,
) -> Result<(), StoreError> {
    let key = consent_key(subject, client_id);
    let mut all = remembered(store, subject, client_id).await?;
    for scope in scopes {
        if !all.contains(scope) {
            all.push(scope.clone());
        }
    }
    let payload = serde_json::to_vec(&ConsentPayload { scopes: all })
        .map_err(|error| StoreError::Internal(error.to_string()))?;
    let record = Grant {
        key,
        kind: GrantKind::Consent,
        client_id: client_id.to_owned(),
        subject: Some(subject.to_owned()),
        family: None,
        issued_at: now,
        expires_at: now.plus(lifetime),
        consumed_at: None,
        payload,
    };
    // Replace: a record is written once per key, so drop the old one first. Two consents
    // racing each write a superset of what they saw; the last one standing is kept.
    store.revoke(RevokeTarget::Grant(key)).await?;
    match store.put(record).await? {
        PutOutcome::Stored | PutOutcome::AlreadyExists => Ok(()),
    }
}
