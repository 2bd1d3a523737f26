//! Remembered consent: one grant-store record per (user, client) listing the scopes the user
//! agreed to. Revoking a user's grants by subject forgets it too.

use super::{RepositoryError, encode};
use crate::handle::GrantKey;
use crate::scope::ScopeSet;
use crate::store::{Grant, GrantKind, GrantStore, PutOutcome, RevokeTarget, StoreError};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

const KIND: GrantKind = GrantKind::Consent;

/// What the grant store keeps under a consent record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ConsentPayload {
    pub(super) scopes: ScopeSet,
}

fn consent_key(subject: &str, client_id: &str) -> GrantKey {
    GrantKey::derived("consent", &[subject, client_id])
}

/// Remembered consent in the grant store.
#[derive(Clone)]
pub(crate) struct Consents {
    store: Arc<dyn GrantStore>,
}

impl Consents {
    /// Consent records in `store`.
    pub(crate) fn new(store: Arc<dyn GrantStore>) -> Self {
        Self { store }
    }

    /// The scopes `subject` has agreed to give `client_id`, if any are remembered (an
    /// unreadable record remembers nothing).
    pub(crate) async fn remembered(
        &self,
        subject: &str,
        client_id: &str,
    ) -> Result<ScopeSet, StoreError> {
        let Some(grant) = self.store.get(&consent_key(subject, client_id)).await? else {
            return Ok(ScopeSet::default());
        };
        if grant.kind != KIND {
            return Ok(ScopeSet::default());
        }
        Ok(serde_json::from_slice::<ConsentPayload>(&grant.payload)
            .map(|payload| payload.scopes)
            .unwrap_or_default())
    }

    /// Remembers consent to `scopes`, added to what was remembered before.
    pub(crate) async fn remember(
        &self,
        subject: &str,
        client_id: &str,
        scopes: &ScopeSet,
        lifetime: Duration,
        now: Timestamp,
    ) -> Result<(), RepositoryError> {
        let key = consent_key(subject, client_id);
        let all = self.remembered(subject, client_id).await?.union(scopes);
        let record = Grant {
            key,
            kind: KIND,
            client_id: client_id.to_owned(),
            subject: Some(subject.to_owned()),
            family: None,
            issued_at: now,
            expires_at: now.plus(lifetime),
            consumed_at: None,
            payload: encode(KIND, &ConsentPayload { scopes: all })?,
        };
        // Replace: a record is written once per key, so drop the old one first. Two consents
        // racing each write a superset of what they saw; the last one standing is kept.
        self.store.revoke(RevokeTarget::Grant(key)).await?;
        match self.store.put(record).await? {
            PutOutcome::Stored | PutOutcome::AlreadyExists => Ok(()),
        }
    }
}
