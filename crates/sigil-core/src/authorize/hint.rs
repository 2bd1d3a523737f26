//! `id_token_hint` (OIDC Core §3.1.2.1, RP-Initiated Logout §2): an ID token this server
//! issued, naming the user the client expects. It may have expired — it names who, it grants
//! nothing — and the server need not be among its audiences.

use super::authorizer::Authorizer;
use crate::error::ProtocolError;
use crate::tokens::{Audience, ID_TOKEN_TYPE};

/// What a verified `id_token_hint` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdTokenHint {
    /// The clients it was issued to.
    pub(crate) audience: Audience,
    /// The user it names.
    pub(crate) subject: String,
}

impl Authorizer {
    /// Verifies `hint`: signed by one of this server's keys, an ID token (`typ`), issued by
    /// this issuer, with a subject. Anything else is `invalid_request`.
    pub(crate) fn id_token_hint(&self, hint: &str) -> Result<IdTokenHint, ProtocolError> {
        let bad = || {
            ProtocolError::invalid_request("the id_token_hint is not an id_token from this server")
        };
        let verified = self.context.signer.verify(hint).map_err(|_| bad())?;
        if verified.typ.as_deref() != Some(ID_TOKEN_TYPE) {
            return Err(bad());
        }
        let claims = verified.claims;
        if claims.get("iss").and_then(|v| v.as_str()) != Some(self.context.issuer.as_str()) {
            return Err(bad());
        }
        let audience: Audience = claims
            .get("aud")
            .cloned()
            .and_then(|aud| serde_json::from_value(aud).ok())
            .ok_or_else(bad)?;
        let subject = claims
            .get("sub")
            .and_then(|v| v.as_str())
            .filter(|sub| !sub.is_empty())
            .ok_or_else(bad)?
            .to_owned();
        Ok(IdTokenHint { audience, subject })
    }
}
