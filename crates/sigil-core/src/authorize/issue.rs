//! Issuing the authorization response: a code filed in the grant store, and for the hybrid
//! and implicit flows the tokens returned from the authorization endpoint itself.

use super::authorizer::Authorizer;
use super::redirect::ClientRedirect;
use super::request::AuthorizationRequest;
use crate::access::GrantedAccess;
use crate::error::ProtocolError;
use crate::model::Session;
use crate::model::{Client, User};
use crate::repository::CodePayload;
use crate::time::Timestamp;
use crate::tokens::{AccessTokenRequest, IdTokenRequest, user_claims};

/// A response ready for the client, with what the audit log needs.
#[derive(Debug, Clone)]
pub struct Issued {
    /// Where and how to send it.
    pub redirect: ClientRedirect,
    /// The client.
    pub client_id: String,
    /// The user.
    pub subject: String,
}

impl Authorizer {
    /// Builds the response to a request the user is signed in and has consented to.
    pub(super) async fn issue(
        &self,
        request: &AuthorizationRequest,
        client: &Client,
        session: &Session,
        user: &User,
        now: Timestamp,
    ) -> Result<Issued, ProtocolError> {
        let mut params: Vec<(String, String)> = Vec::new();
        let code = if request.response_type.has_code() {
            let code = self.file_code(request, client, session, now).await?;
            params.push(("code".to_owned(), code.clone()));
            Some(code)
        } else {
            None
        };
        let access = GrantedAccess {
            scopes: request.scopes.clone(),
            audiences: request.audiences.clone(),
        };
        let access_token = if request.response_type.has_access_token() {
            let minted = self
                .context
                .minter
                .access_token(AccessTokenRequest {
                    client,
                    subject: &user.subject,
                    access: &access,
                    now,
                    family: None,
                    jti: None,
                })
                .await?;
            params.push(("access_token".to_owned(), minted.token.clone()));
            params.push(("token_type".to_owned(), "Bearer".to_owned()));
            params.push(("expires_in".to_owned(), minted.expires_in.to_string()));
            params.push(("scope".to_owned(), access.scope_string()));
            Some(minted.token)
        } else {
            None
        };
        if request.response_type.has_id_token() {
            // With no access token the client cannot call userinfo: the claims go in the
            // id_token (OIDC Core §5.4).
            let claims = match (&access_token, &code) {
                (None, None) => Some(user_claims(&self.context.catalog, &request.scopes, user)),
                _ => None,
            };
            let id_token = self
                .context
                .minter
                .id_token(IdTokenRequest {
                    client,
                    subject: &user.subject,
                    nonce: request.nonce.as_deref(),
                    auth_time: session.auth_time,
                    amr: &session.amr,
                    sid: Some(&session.sid),
                    access_token: access_token.as_deref(),
                    code: code.as_deref(),
                    user_claims: claims.as_ref(),
                    now,
                })
                .await?;
            params.push(("id_token".to_owned(), id_token));
        }
        if let Some(state) = &request.state {
            params.push(("state".to_owned(), state.clone()));
        }
        params.push(("iss".to_owned(), self.context.issuer.clone()));
        Ok(Issued {
            redirect: ClientRedirect {
                redirect_uri: request.redirect_uri.clone(),
                mode: request.response_mode,
                params,
                error: None,
            },
            client_id: client.client_id.clone(),
            subject: user.subject.clone(),
        })
    }

    /// Files a new authorization code and returns it.
    async fn file_code(
        &self,
        request: &AuthorizationRequest,
        client: &Client,
        session: &Session,
        now: Timestamp,
    ) -> Result<String, ProtocolError> {
        let payload = CodePayload {
            redirect_uri: request.redirect_uri.clone(),
            scopes: request.scopes.clone(),
            audiences: request.audiences.clone(),
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            auth_time: session.auth_time,
            amr: session.amr.clone(),
            sid: session.sid.clone(),
        };
        let code = self
            .codes
            .file(
                &client.client_id,
                &session.subject,
                &payload,
                now,
                now.plus(client.sign_in.code_lifetime),
            )
            .await?;
        Ok(code)
    }
}
