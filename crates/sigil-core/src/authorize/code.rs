//! Authorization codes: what the grant store keeps under a code until it is redeemed.

use super::pkce::CodeChallenge;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The payload of an authorization code grant (the grant itself holds client, subject,
/// family and expiry).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CodePayload {
    /// The redirect URI of the authorization request; the token request must repeat it.
    pub redirect_uri: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
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

/// The purpose under which the id of the access token issued for a code is derived from the
/// code, so a replay can revoke that token without the store remembering it.
pub(crate) const CODE_ACCESS_TOKEN_ID: &str = "code-access-token";
