//! Markers: records with no payload whose presence says something — a JWT access token
//! revoked before its expiry, a client assertion's `jti` already used.

use crate::handle::GrantKey;
use crate::store::{Grant, GrantKind, GrantStore, PutOutcome, StoreError};
use crate::time::Timestamp;
use std::sync::Arc;

/// A marker of `kind` under `key`, for `client_id`, from `now` until `expires_at`.
fn marker(
    key: GrantKey,
    kind: GrantKind,
    client_id: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Grant {
    Grant {
        key,
        kind,
        client_id: client_id.to_owned(),
        subject: None,
        family: None,
        issued_at: now,
        expires_at,
        consumed_at: None,
        payload: Vec::new(),
    }
}

/// JWT access tokens revoked before they expire, by `jti` (introspection honours them;
/// validators that only check signatures cannot see them).
#[derive(Clone)]
pub(crate) struct RevokedJwts {
    store: Arc<dyn GrantStore>,
}

impl RevokedJwts {
    /// Revocation markers in `store`.
    pub(crate) fn new(store: Arc<dyn GrantStore>) -> Self {
        Self { store }
    }

    fn key(jti: &str) -> GrantKey {
        GrantKey::derived("revoked_jwt", &[jti])
    }

    /// Revokes JWT access token `jti` until it would have expired anyway. A marker already
    /// there means a concurrent revocation won; the token is revoked either way.
    pub(crate) async fn revoke(
        &self,
        jti: &str,
        client_id: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let marker = marker(
            Self::key(jti),
            GrantKind::RevokedJwt,
            client_id,
            now,
            expires_at,
        );
        match self.store.put(marker).await? {
            PutOutcome::Stored | PutOutcome::AlreadyExists => Ok(()),
        }
    }

    /// Whether JWT access token `jti` was revoked.
    pub(crate) async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        let grant = self.store.get(&Self::key(jti)).await?;
        Ok(grant.is_some_and(|grant| grant.kind == GrantKind::RevokedJwt))
    }
}

/// Client assertions' `jti`s seen once (RFC 7523 §3 replay protection). Borrowed: client
/// authentication is handed the store for each request.
pub(crate) struct ClientAssertions<'a> {
    store: &'a dyn GrantStore,
}

impl<'a> ClientAssertions<'a> {
    /// Assertion markers in `store`.
    pub(crate) fn new(store: &'a dyn GrantStore) -> Self {
        Self { store }
    }

    /// Records `client_id`'s assertion `jti` until `expires_at`; false if it was recorded
    /// before (a replay).
    pub(crate) async fn record_once(
        &self,
        client_id: &str,
        jti: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let key = GrantKey::derived("client_assertion", &[client_id, jti]);
        let marker = marker(key, GrantKind::ClientAssertion, client_id, now, expires_at);
        Ok(self.store.put(marker).await? == PutOutcome::Stored)
    }
}
