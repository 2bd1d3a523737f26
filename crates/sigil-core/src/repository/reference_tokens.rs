//! Reference access tokens: an opaque handle for the client, the token's claims in the grant
//! store under the handle's hash.

use super::{RepositoryError, encode, file_new};
use crate::handle::{FamilyId, GrantKey, new_handle};
use crate::scope::ScopeSet;
use crate::store::{Grant, GrantKind, GrantStore, RevokeTarget, StoreError};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub(super) const KIND: GrantKind = GrantKind::ReferenceToken;

/// What the grant store keeps under a reference token (the grant holds client, subject and
/// expiry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceTokenPayload {
    /// Unique token id.
    pub jti: String,
    /// Granted scopes.
    pub scopes: ScopeSet,
    /// Audiences.
    pub audiences: Vec<String>,
}

/// A reference token to file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewReferenceToken<'a> {
    pub client_id: &'a str,
    pub subject: &'a str,
    /// The sign-in's family, if any: revoking it revokes the token.
    pub family: Option<FamilyId>,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub payload: &'a ReferenceTokenPayload,
}

/// Reference access tokens in the grant store.
#[derive(Clone)]
pub(crate) struct ReferenceTokens {
    store: Arc<dyn GrantStore>,
}

impl ReferenceTokens {
    /// Reference tokens in `store`.
    pub(crate) fn new(store: Arc<dyn GrantStore>) -> Self {
        Self { store }
    }

    /// Files a new reference token and returns its handle.
    pub(crate) async fn file(
        &self,
        token: NewReferenceToken<'_>,
    ) -> Result<String, RepositoryError> {
        let handle = new_handle();
        let grant = Grant {
            key: GrantKey::of_handle(&handle),
            kind: KIND,
            client_id: token.client_id.to_owned(),
            subject: Some(token.subject.to_owned()),
            family: token.family,
            issued_at: token.issued_at,
            expires_at: token.expires_at,
            consumed_at: None,
            payload: encode(KIND, token.payload)?,
        };
        file_new(self.store.as_ref(), grant).await?;
        Ok(handle)
    }

    /// Removes the token filed under `key`: it is inactive at once.
    pub(crate) async fn revoke(&self, key: GrantKey) -> Result<(), StoreError> {
        self.store.revoke(RevokeTarget::Grant(key)).await?;
        Ok(())
    }
}
