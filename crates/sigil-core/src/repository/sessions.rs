//! Session records: the grant store's record of a sign-in session (the cookie carries the
//! session itself), so that logout and revoke-by-subject end it on every pod.

use super::{RepositoryError, file_new};
use crate::handle::GrantKey;
use crate::model::Session;
use crate::store::{Grant, GrantKind, GrantStore, RevokeTarget, StoreError};
use std::sync::Arc;

const KIND: GrantKind = GrantKind::Session;

/// Session records in the grant store.
#[derive(Clone)]
pub(crate) struct Sessions {
    store: Arc<dyn GrantStore>,
}

impl Sessions {
    /// Session records in `store`.
    pub(crate) fn new(store: Arc<dyn GrantStore>) -> Self {
        Self { store }
    }

    /// Records a session that just started.
    pub(crate) async fn start(&self, session: &Session) -> Result<(), RepositoryError> {
        let record = Grant {
            key: key_of(session),
            kind: KIND,
            client_id: String::new(),
            subject: Some(session.subject.clone()),
            family: None,
            issued_at: session.auth_time,
            expires_at: session.expires_at,
            consumed_at: None,
            payload: Vec::new(),
        };
        file_new(self.store.as_ref(), record).await
    }

    /// Whether the session's record is still there (not logged out, not revoked).
    pub(crate) async fn is_live(&self, session: &Session) -> Result<bool, StoreError> {
        let record = self.store.get(&key_of(session)).await?;
        Ok(record.is_some_and(|record| record.kind == KIND))
    }

    /// Removes the session's record: the cookie no longer opens a session anywhere.
    pub(crate) async fn end(&self, session: &Session) -> Result<(), StoreError> {
        self.store
            .revoke(RevokeTarget::Grant(key_of(session)))
            .await?;
        Ok(())
    }
}

/// Where a session's record is filed: derived from its random id, so a cookie that opens
/// names its record without the store keeping a second index.
fn key_of(session: &Session) -> GrantKey {
    GrantKey::derived("session", &[session.sid.as_str()])
}
