//! Minting tokens: claims per RFC 9068 for JWT access tokens, or a reference handle filed in
//! the grant store. Extension grants and self-issued tokens call the [`Minter`] directly.

mod claims;
mod minter;

pub use claims::{AccessTokenClaims, Audience, ReferenceTokenPayload};
pub use minter::{AccessTokenRequest, MintedAccessToken, Minter};

/// The `typ` header of JWT access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_JWT_TYPE: &str = "at+jwt";
