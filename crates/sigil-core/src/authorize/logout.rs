//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): validating an end-session
//! request, and ending the session record.

use super::authorizer::Authorizer;
use super::hint::IdTokenHint;
use crate::error::ProtocolError;
use crate::model::Session;
use crate::parameters::Parameters;
use crate::tokens::Audience;

/// A validated RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    /// The client the logout comes from, if it said (by `client_id` or the hint's `aud`).
    pub client_id: Option<String>,
    /// The user the `id_token_hint` names: logout without asking only if it is the session's.
    pub hinted_subject: Option<String>,
    /// Where to send the browser afterwards: a registered post-logout redirect URI, with
    /// `state` appended.
    pub redirect: Option<String>,
}

impl Authorizer {
    /// Validates an end-session request. Every error is shown to the user, never redirected:
    /// an unregistered `post_logout_redirect_uri` would otherwise be an open redirector.
    pub fn logout_request(&self, params: &Parameters) -> Result<LogoutRequest, ProtocolError> {
        let mut client_id = params.get("client_id").map(str::to_owned);
        let mut hinted_subject = None;
        if let Some(hint) = params.get("id_token_hint") {
            let IdTokenHint { audience, subject } = self.id_token_hint(hint)?;
            match &client_id {
                Some(id) if !audience.contains(id) => {
                    return Err(ProtocolError::invalid_request(
                        "client_id differs from the id_token_hint's audience",
                    ));
                }
                Some(_) => {}
                None => {
                    client_id = match audience {
                        Audience::One(one) => Some(one),
                        Audience::Many(many) => many.into_iter().next(),
                    };
                }
            }
            hinted_subject = Some(subject);
        }
        let redirect = match params.get("post_logout_redirect_uri") {
            None => None,
            Some(uri) => {
                let client = client_id
                    .as_deref()
                    .and_then(|id| self.context.catalog.client(id))
                    .ok_or_else(|| {
                        ProtocolError::invalid_request(
                            "post_logout_redirect_uri needs a known client_id or id_token_hint",
                        )
                    })?;
                if !client.has_post_logout_redirect_uri(uri) {
                    return Err(ProtocolError::invalid_request(
                        "post_logout_redirect_uri is not registered for this client",
                    ));
                }
                Some(match params.get("state") {
                    None => uri.to_owned(),
                    Some(state) => {
                        let separator = if uri.contains('?') { '&' } else { '?' };
                        let encoded = form_urlencoded::Serializer::new(String::new())
                            .append_pair("state", state)
                            .finish();
                        format!("{uri}{separator}{encoded}")
                    }
                })
            }
        };
        Ok(LogoutRequest {
            client_id,
            hinted_subject,
            redirect,
        })
    }

    /// Ends a session on every pod (its record is removed; the cookie no longer opens a
    /// session anywhere).
    pub async fn end_session_record(&self, session: &Session) -> Result<(), ProtocolError> {
        self.sessions.end(session).await?;
        Ok(())
    }
}
