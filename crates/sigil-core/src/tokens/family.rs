//! The tokens of one sign-in (a grant family): the access token, the id_token when `openid`
//! was granted, and — for a code redemption — the family's first refresh token. Both the
//! authorization-code and the refresh-token grants issue through here.

use super::{AccessTokenRequest, IdTokenRequest, Minter, TokenResponse};
use crate::access::GrantedAccess;
use crate::error::ProtocolError;
use crate::handle::FamilyId;
use crate::model::{Client, OFFLINE_ACCESS, OPENID, RefreshIssue};
use crate::repository::{NewRefreshToken, RefreshPayload, RefreshTokens};
use crate::time::Timestamp;

/// The `grant_type` of refresh requests (RFC 6749 §6): a client must be allowed it to be
/// given a refresh token.
pub const REFRESH_TOKEN_GRANT_TYPE: &str = "refresh_token";

/// The tokens of one sign-in, as a code redemption or a refresh issues them.
#[derive(Debug, Clone)]
pub(crate) struct FamilyTokens<'a> {
    /// The client they are issued to.
    pub client: &'a Client,
    /// The user.
    pub subject: &'a str,
    /// Scopes and audiences.
    pub access: GrantedAccess,
    /// The sign-in's family, which revocation and replay detection remove as one.
    pub family: Option<FamilyId>,
    /// When the user authenticated.
    pub auth_time: Timestamp,
    /// How.
    pub amr: &'a [String],
    /// The session.
    pub sid: &'a str,
    /// The authorization request's nonce, for the id_token.
    pub nonce: Option<&'a str>,
    /// A token id fixed in advance (a code's, so a replay can revoke it); random if `None`.
    pub access_token_id: Option<String>,
    /// Issue time.
    pub now: Timestamp,
}

/// Access token and (with `openid`) id_token for a sign-in.
pub(crate) async fn mint(
    minter: &Minter,
    tokens: &FamilyTokens<'_>,
) -> Result<TokenResponse, ProtocolError> {
    let client = tokens.client;
    let minted = minter
        .access_token(AccessTokenRequest {
            client,
            subject: tokens.subject,
            access: &tokens.access,
            now: tokens.now,
            family: tokens.family,
            jti: tokens.access_token_id.as_deref(),
        })
        .await?;
    let id_token = if tokens.access.scopes.contains(OPENID) {
        Some(
            minter
                .id_token(IdTokenRequest {
                    client,
                    subject: tokens.subject,
                    nonce: tokens.nonce,
                    auth_time: tokens.auth_time,
                    amr: tokens.amr,
                    sid: Some(tokens.sid),
                    access_token: Some(&minted.token),
                    code: None,
                    user_claims: None,
                    now: tokens.now,
                })
                .await?,
        )
    } else {
        None
    };
    Ok(TokenResponse {
        access_token: minted.token,
        token_type: "Bearer",
        expires_in: minted.expires_in,
        scope: Some(tokens.access.scope_string()),
        refresh_token: None,
        id_token,
    })
}

/// What a code redemption returns: access token, id_token, and a refresh token when the
/// client's policy gives one (`offline_access` granted, or always) and it may refresh.
pub(crate) async fn issue(
    minter: &Minter,
    refresh_tokens: &RefreshTokens,
    tokens: FamilyTokens<'_>,
) -> Result<TokenResponse, ProtocolError> {
    let mut response = mint(minter, &tokens).await?;
    let client = tokens.client;
    let policy = &client.sign_in.refresh;
    let wanted = match policy.issue {
        RefreshIssue::Always => true,
        RefreshIssue::OfflineAccess => tokens.access.scopes.contains(OFFLINE_ACCESS),
    };
    if !wanted || !client.allows_grant_type(REFRESH_TOKEN_GRANT_TYPE) {
        return Ok(response);
    }
    // The family ends a fixed time after sign-in, however often it is rotated.
    let absolute_expiry = tokens.auth_time.plus(policy.absolute_lifetime);
    let payload = RefreshPayload {
        scopes: tokens.access.scopes.clone(),
        audiences: tokens.access.audiences.clone(),
        auth_time: tokens.auth_time,
        amr: tokens.amr.to_vec(),
        sid: tokens.sid.to_owned(),
        absolute_expiry,
        handoff: None,
    };
    let handle = refresh_tokens
        .file(NewRefreshToken {
            client_id: &client.client_id,
            subject: tokens.subject,
            family: tokens.family,
            issued_at: tokens.now,
            expires_at: tokens
                .now
                .plus(policy.sliding_lifetime)
                .min(absolute_expiry),
            payload: &payload,
        })
        .await?;
    response.refresh_token = Some(handle);
    Ok(response)
}
