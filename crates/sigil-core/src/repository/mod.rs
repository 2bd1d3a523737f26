//! Typed access to the grant store, one repository per grant kind.

mod markers;
mod refresh_tokens;

pub(crate) use markers::{revoked_jwt_key, revoked_jwt_marker};
pub(crate) use refresh_tokens::RefreshPayload;
