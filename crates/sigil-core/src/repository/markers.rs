//! Markers: records with no payload whose presence says something — a JWT access token
//! revoked before its expiry.

use crate::handle::GrantKey;
use crate::store::{Grant, GrantKind};
use crate::time::Timestamp;

/// The store key of the marker that revokes a JWT access token by `jti`.
pub(crate) fn revoked_jwt_key(jti: &str) -> GrantKey {
    GrantKey::derived("revoked_jwt", &[jti])
}

/// The marker that revokes JWT access token `jti` until it would have expired anyway.
pub(crate) fn revoked_jwt_marker(
    jti: &str,
    client_id: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Grant {
    Grant {
        key: revoked_jwt_key(jti),
        kind: GrantKind::RevokedJwt,
        client_id: client_id.to_owned(),
        subject: None,
        family: None,
        issued_at: now,
        expires_at,
        consumed_at: None,
        payload: Vec::new(),
    }
}
