//! The [`Minter`]: builds access and ID token claims and turns them into tokens — signed
//! JWTs through the [`TokenSigner`], or reference handles filed in the grant store.

use super::ACCESS_TOKEN_JWT_TYPE;
use super::claims::{AccessTokenClaims, Audience};
use crate::access::GrantedAccess;
use crate::error::ProtocolError;
use crate::handle::FamilyId;
use crate::model::{AccessTokenFormat, Client};
use crate::repository::{NewReferenceToken, ReferenceTokenPayload, ReferenceTokens};
use crate::signing::TokenSigner;
use crate::store::GrantStore;
use crate::time::Timestamp;
use std::sync::Arc;

/// What to mint.
#[derive(Debug, Clone, Copy)]
pub struct AccessTokenRequest<'a> {
    /// The client the token is issued to (its format and lifetime apply).
    pub client: &'a Client,
    /// The token's subject.
    pub subject: &'a str,
    /// Scopes and audiences.
    pub access: &'a GrantedAccess,
    /// Issue time.
    pub now: Timestamp,
    /// The grant family (a sign-in's code and refresh tokens): a stored reference token joins
    /// it, so revoking the family revokes the token.
    pub family: Option<FamilyId>,
    /// A token id fixed in advance (see [`crate::handle::derived_token_id`]); random if `None`.
    pub jti: Option<&'a str>,
}

/// A minted access token.
#[derive(Debug, Clone)]
pub struct MintedAccessToken {
    /// The value handed to the client: a JWT or a reference handle.
    pub token: String,
    /// Seconds until expiry.
    pub expires_in: u64,
    /// The token's unique id.
    pub jti: String,
    /// Its format.
    pub format: AccessTokenFormat,
}

/// Mints tokens: signs JWTs with the active key, or files reference tokens in the store.
pub struct Minter {
    issuer: String,
    signer: Arc<dyn TokenSigner>,
    reference_tokens: ReferenceTokens,
}

impl Minter {
    /// A minter for `issuer`.
    pub fn new(issuer: String, signer: Arc<dyn TokenSigner>, store: Arc<dyn GrantStore>) -> Self {
        Self {
            issuer,
            signer,
            reference_tokens: ReferenceTokens::new(store),
        }
    }

    /// The issuer identifier tokens carry.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `aud` of a token for `audiences`; a token for identity scopes only (no API) is
    /// for the issuer itself, whose userinfo endpoint accepts it.
    pub(crate) fn audience(&self, audiences: &[String]) -> Audience {
        if audiences.is_empty() {
            Audience::One(self.issuer.clone())
        } else {
            Audience::from_list(audiences)
        }
    }

    /// The signer, for claims the minter does not know (id_tokens are minted here too).
    pub(crate) fn signer(&self) -> &dyn TokenSigner {
        self.signer.as_ref()
    }

    /// Mints an access token in the client's configured format.
    pub async fn access_token(
        &self,
        request: AccessTokenRequest<'_>,
    ) -> Result<MintedAccessToken, ProtocolError> {
        let client = request.client;
        let lifetime = client.access_token_lifetime;
        let expires_at = request.now.plus(lifetime);
        let jti = request
            .jti
            .map_or_else(crate::handle::new_token_id, str::to_owned);
        let token = match client.access_token_format {
            AccessTokenFormat::Jwt => {
                let claims = AccessTokenClaims {
                    iss: self.issuer.clone(),
                    exp: expires_at.as_secs(),
                    aud: self.audience(&request.access.audiences),
                    sub: request.subject.to_owned(),
                    client_id: client.client_id.clone(),
                    iat: request.now.as_secs(),
                    jti: jti.clone(),
                    scope: request.access.scope_string(),
                };
                let json = serde_json::to_vec(&claims).map_err(|source| {
                    ProtocolError::server_error().caused_by(super::EncodingFailed {
                        what: "access token",
                        source,
                    })
                })?;
                self.signer
                    .sign(ACCESS_TOKEN_JWT_TYPE, &json)
                    .await
                    .map_err(|error| super::signing_failed("an access token", error))?
            }
            AccessTokenFormat::Reference => {
                let payload = ReferenceTokenPayload {
                    jti: jti.clone(),
                    scopes: request.access.scopes.clone(),
                    audiences: request.access.audiences.clone(),
                };
                self.reference_tokens
                    .file(NewReferenceToken {
                        client_id: &client.client_id,
                        subject: request.subject,
                        family: request.family,
                        issued_at: request.now,
                        expires_at,
                        payload: &payload,
                    })
                    .await?
            }
        };
        Ok(MintedAccessToken {
            token,
            expires_in: lifetime.as_secs(),
            jti,
            format: client.access_token_format,
        })
    }
}
