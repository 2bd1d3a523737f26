//! Authorization codes: what the grant store keeps under a code until it is redeemed, filed
//! by the authorizer and consumed, once, by the `authorization_code` grant.

use super::{RepositoryError, Stored, encode, file_new};
use crate::handle::{FamilyId, GrantKey, new_handle};
use crate::pkce::CodeChallenge;
use crate::scope::ScopeSet;
use crate::store::{ConsumeOutcome, Grant, GrantKind, GrantStore, RevokeTarget, StoreError};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const KIND: GrantKind = GrantKind::AuthorizationCode;

/// The purpose under which the id of the access token issued for a code is derived from the
/// code, so a replay can revoke that token without the store remembering it.
pub(crate) const CODE_ACCESS_TOKEN_ID: &str = "code-access-token";

/// The payload of an authorization code grant (the grant itself holds client, subject,
/// family and expiry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CodePayload {
    /// The redirect URI of the authorization request; the token request must repeat it.
    pub redirect_uri: String,
    /// Granted scopes.
    pub scopes: ScopeSet,
    /// Audiences of the access token.
    pub audiences: Vec<String>,
    /// For the id_token.
    pub nonce: Option<String>,
    /// The PKCE challenge, if one was sent.
    pub code_challenge: Option<CodeChallenge>,
    /// When the user authenticated.
    pub auth_time: Timestamp,
    /// How.
    pub amr: Vec<String>,
    /// The session.
    pub sid: String,
}

/// What presenting a code found.
#[derive(Debug)]
pub(crate) enum Redemption {
    /// This call consumed the code.
    Redeemed(Stored<CodePayload>),
    /// The code had been redeemed before: a replay.
    Replayed(Stored<CodePayload>),
    /// No live code under that value.
    NotFound,
}

/// Authorization codes in the grant store.
#[derive(Clone)]
pub(crate) struct AuthorizationCodes {
    store: Arc<dyn GrantStore>,
}

impl AuthorizationCodes {
    /// Codes in `store`.
    pub(crate) fn new(store: Arc<dyn GrantStore>) -> Self {
        Self { store }
    }

    /// Files a new code for `client_id`'s request by `subject`, starting a grant family, and
    /// returns the code.
    pub(crate) async fn file(
        &self,
        client_id: &str,
        subject: &str,
        payload: &CodePayload,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<String, RepositoryError> {
        let code = new_handle();
        let grant = Grant {
            key: GrantKey::of_handle(&code),
            kind: KIND,
            client_id: client_id.to_owned(),
            subject: Some(subject.to_owned()),
            family: Some(FamilyId::new_random()),
            issued_at: now,
            expires_at,
            consumed_at: None,
            payload: encode(KIND, payload)?,
        };
        file_new(self.store.as_ref(), grant).await?;
        Ok(code)
    }

    /// Consumes `code` in one atomic store command, before anything else is checked: two
    /// redemptions cannot both succeed. A value that names another kind of grant (a refresh
    /// token sent as `code`) is not a code and is left as it is: the kind is read first, as the
    /// store's consume does not check kinds. A grant's kind never changes, so the read cannot
    /// go stale before the consume.
    pub(crate) async fn redeem(&self, code: &str) -> Result<Redemption, RepositoryError> {
        let key = GrantKey::of_handle(code);
        match self.store.get(&key).await? {
            Some(grant) if grant.kind == KIND => {}
            _ => return Ok(Redemption::NotFound),
        }
        let outcome = self.store.consume(&key).await?;
        Ok(match outcome {
            ConsumeOutcome::Consumed(grant) => {
                Stored::of_kind(grant, KIND).map_or(Redemption::NotFound, Redemption::Redeemed)
            }
            ConsumeOutcome::AlreadyConsumed(grant) => {
                Stored::of_kind(grant, KIND).map_or(Redemption::NotFound, Redemption::Replayed)
            }
            ConsumeOutcome::NotFound => Redemption::NotFound,
        })
    }

    /// Revokes what `code`'s redemption issued: every grant of its family (refresh tokens,
    /// reference access tokens). Returns how many were removed.
    pub(crate) async fn revoke_family(
        &self,
        code: &Stored<CodePayload>,
    ) -> Result<u64, StoreError> {
        match code.family {
            Some(family) => self.store.revoke(RevokeTarget::Family(family)).await,
            None => Ok(0),
        }
    }
}
