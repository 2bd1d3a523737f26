//! Minting tokens: claims per RFC 9068 for JWT access tokens, or a reference handle filed in
//! the grant store; OIDC id_tokens; and the tokens of one sign-in ([`family`]), which the
//! code and refresh grants both issue. Extension grants and self-issued tokens call the
//! [`Minter`] directly.

use crate::error::{ErrorCode, ProtocolError};

mod claims;
pub mod family;
mod id_token;
mod minter;
mod response;

pub use crate::repository::ReferenceTokenPayload;
pub use claims::{AccessTokenClaims, Audience};
pub use family::REFRESH_TOKEN_GRANT_TYPE;
pub use id_token::{ID_TOKEN_TYPE, IdTokenRequest, half_hash, user_claims};
pub use minter::{AccessTokenRequest, MintedAccessToken, Minter};
pub use response::TokenResponse;

/// The `typ` header of JWT access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_JWT_TYPE: &str = "at+jwt";

/// What a client is told when a token could not be signed (the signing error is the cause):
/// while no key is loaded yet (a pod still starting, or its key source not yet populated) the
/// request may be retried (`temporarily_unavailable`); any other failure is a server error.
pub(crate) fn signing_failed(
    what: &'static str,
    error: crate::signing::SigningError,
) -> ProtocolError {
    let answer = match error {
        crate::signing::SigningError::NoActiveKey(_) => ProtocolError::new(
            ErrorCode::TemporarilyUnavailable,
            "no signing key is loaded yet; retry shortly",
        ),
        _ => ProtocolError::server_error(),
    };
    answer.caused_by(SigningFailed {
        what,
        source: error,
    })
}

/// A token that could not be signed, and why.
#[derive(Debug, thiserror::Error)]
#[error("signing {what}")]
struct SigningFailed {
    what: &'static str,
    #[source]
    source: crate::signing::SigningError,
}

/// A token's claims that could not be encoded.
#[derive(Debug, thiserror::Error)]
#[error("encoding {what} claims")]
pub(crate) struct EncodingFailed {
    pub(crate) what: &'static str,
    #[source]
    pub(crate) source: serde_json::Error,
}
