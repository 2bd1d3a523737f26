//! A stored grant as a repository hands it out: the grant's fields, and its payload decoded
//! on demand (so a handler checks client and expiry before an unreadable payload matters,
//! as it always has).

use super::RepositoryError;
use crate::handle::{FamilyId, GrantKey};
use crate::store::{Grant, GrantKind};
use crate::time::Timestamp;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// A grant of one kind whose payload is a `P`.
#[derive(Debug, Clone)]
pub(crate) struct Stored<P> {
    /// Where it is filed.
    pub key: GrantKey,
    /// The client it was issued to.
    pub client_id: String,
    /// The user, if any.
    pub subject: Option<String>,
    /// Its family, if any.
    pub family: Option<FamilyId>,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When it stops existing.
    pub expires_at: Timestamp,
    /// When it was consumed (codes) or rotated out (refresh tokens), if it was.
    pub consumed_at: Option<Timestamp>,
    kind: GrantKind,
    bytes: Vec<u8>,
    payload: PhantomData<fn() -> P>,
}

impl<P: DeserializeOwned> Stored<P> {
    /// `grant` if it is of `kind`; a grant of another kind under the key is not this one.
    pub(super) fn of_kind(grant: Grant, kind: GrantKind) -> Option<Self> {
        if grant.kind != kind {
            return None;
        }
        Some(Self {
            key: grant.key,
            client_id: grant.client_id,
            subject: grant.subject,
            family: grant.family,
            issued_at: grant.issued_at,
            expires_at: grant.expires_at,
            consumed_at: grant.consumed_at,
            kind: grant.kind,
            bytes: grant.payload,
            payload: PhantomData,
        })
    }

    /// The decoded payload.
    pub(crate) fn payload(&self) -> Result<P, RepositoryError> {
        serde_json::from_slice(&self.bytes).map_err(|source| RepositoryError::Unreadable {
            kind: self.kind,
            key: self.key,
            source,
        })
    }
}
