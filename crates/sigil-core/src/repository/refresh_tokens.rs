//! Refresh tokens: what the grant store keeps under a refresh token's handle.

use crate::error::ProtocolError;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What the grant store keeps under a refresh token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RefreshPayload {
    pub scopes: Vec<String>,
    pub audiences: Vec<String>,
    pub auth_time: Timestamp,
    pub amr: Vec<String>,
    pub sid: String,
    /// The family ends here, however often it is rotated.
    pub absolute_expiry: Timestamp,
    /// This token, sealed under the token it replaced (see `grants::handoff`).
    pub handoff: Option<String>,
}

impl RefreshPayload {
    /// The stored bytes.
    pub(crate) fn encode(&self) -> Result<Vec<u8>, ProtocolError> {
        serde_json::to_vec(self).map_err(|error| {
            tracing::error!(%error, "encoding a refresh token");
            ProtocolError::server_error()
        })
    }
}
