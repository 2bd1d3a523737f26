//! Finding what a presented handle is filed as — a reference access token or a refresh
//! token — in one store read (introspection takes either).

use super::{ReferenceTokenPayload, RefreshPayload};
use super::{Stored, reference_tokens, refresh_tokens};
use crate::handle::GrantKey;
use crate::store::{GrantStore, StoreError};

/// A token filed under a handle.
#[derive(Debug)]
pub(crate) enum FoundHandle {
    /// A reference access token.
    Reference(Stored<ReferenceTokenPayload>),
    /// A refresh token.
    Refresh(Stored<RefreshPayload>),
}

/// The token filed under `handle`, if it is a reference or refresh token.
pub(crate) async fn find_handle(
    store: &dyn GrantStore,
    handle: &str,
) -> Result<Option<FoundHandle>, StoreError> {
    let Some(grant) = store.get(&GrantKey::of_handle(handle)).await? else {
        return Ok(None);
    };
    if grant.kind == reference_tokens::KIND {
        return Ok(Stored::of_kind(grant, reference_tokens::KIND).map(FoundHandle::Reference));
    }
    Ok(Stored::of_kind(grant, refresh_tokens::KIND).map(FoundHandle::Refresh))
}
