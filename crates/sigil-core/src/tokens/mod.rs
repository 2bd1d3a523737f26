//! Minting tokens: claims per RFC 9068 for JWT access tokens, or a reference handle filed in
//! the grant store; OIDC id_tokens. Extension grants and self-issued tokens call the [`Minter`] directly.

mod claims;
mod id_token;
mod minter;

pub use claims::{AccessTokenClaims, Audience, ReferenceTokenPayload};
pub use id_token::{ID_TOKEN_TYPE, IdTokenRequest, half_hash, user_claims};
pub use minter::{AccessTokenRequest, MintedAccessToken, Minter};

/// The `typ` header of JWT access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_JWT_TYPE: &str = "at+jwt";
