//! Typed access to the grant store: one repository per grant kind, each owning its payload
//! type and encoding, its kind check (a grant of another kind under a key is "not found") and
//! what a handle collision means ([`RepositoryError::HandleCollision`]). Services and grant
//! handlers go through these and never touch a [`Grant`]'s payload bytes or its
//! [`GrantKind`].
//!
//! The stored bytes are those earlier releases wrote and read (JSON, field names unchanged):
//! a rolling upgrade meets grants written by the previous version, and the tests decode each
//! payload in that encoding.

mod codes;
mod consents;
mod handles;
mod markers;
mod record;
mod reference_tokens;
mod refresh_tokens;
mod sessions;

pub(crate) use codes::{AuthorizationCodes, CODE_ACCESS_TOKEN_ID, CodePayload, Redemption};
pub(crate) use consents::Consents;
pub(crate) use handles::{FoundHandle, find_handle};
pub(crate) use markers::{ClientAssertions, RevokedJwts};
pub(crate) use record::Stored;
pub use reference_tokens::ReferenceTokenPayload;
pub(crate) use reference_tokens::{NewReferenceToken, ReferenceTokens};
pub(crate) use refresh_tokens::{NewRefreshToken, RefreshPayload, RefreshRotation, RefreshTokens};
pub(crate) use sessions::Sessions;

use crate::error::ProtocolError;
use crate::handle::GrantKey;
use crate::store::{Grant, GrantKind, GrantStore, PutOutcome, StoreError};

/// Why a repository operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepositoryError {
    /// The grant store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A live grant already exists under a freshly generated handle. 256 random bits do not
    /// collide; if they did, the request is refused rather than two holders sharing a grant.
    #[error("a live grant already exists under a new {kind:?} handle")]
    HandleCollision {
        /// What was being filed.
        kind: GrantKind,
    },
    /// A payload could not be encoded.
    #[error("encoding a {kind:?} payload")]
    Encode {
        /// What was being filed.
        kind: GrantKind,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A stored payload could not be read.
    #[error("unreadable {kind:?} payload under {key:?}")]
    Unreadable {
        /// The grant's kind.
        kind: GrantKind,
        /// Where it is filed.
        key: GrantKey,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// Store failures keep their mapping (`temporarily_unavailable` or `server_error`); the
/// rest are server errors, caused by this error.
impl From<RepositoryError> for ProtocolError {
    fn from(error: RepositoryError) -> Self {
        match error {
            RepositoryError::Store(error) => error.into(),
            error => ProtocolError::server_error().caused_by(error),
        }
    }
}

/// Files `grant` under its fresh key: the one place a handle collision is decided.
async fn file_new(store: &dyn GrantStore, grant: Grant) -> Result<(), RepositoryError> {
    let kind = grant.kind;
    match store.put(grant).await? {
        PutOutcome::Stored => Ok(()),
        PutOutcome::AlreadyExists => Err(RepositoryError::HandleCollision { kind }),
    }
}

/// The JSON bytes of a payload of `kind`.
fn encode<P: serde::Serialize>(kind: GrantKind, payload: &P) -> Result<Vec<u8>, RepositoryError> {
    serde_json::to_vec(payload).map_err(|source| RepositoryError::Encode { kind, source })
}

#[cfg(test)]
mod tests;
