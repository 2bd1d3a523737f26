//! # sigil-core — the protocol, without I/O
//!
//! This crate holds Sigil's OAuth 2.0 / OpenID Connect logic: the model of clients and
//! resources, request validation, client authentication, grant handlers, token minting,
//! introspection and revocation, and the protocol errors they return as values.
//!
//! **Where to start:** [`endpoint::Services`] is what the HTTP layer holds: three services
//! over one shared [`context::Context`], one method per endpoint — the
//! [`endpoint::TokenService`] (token endpoint and grant registry), the
//! [`endpoint::TokenInspector`] (introspection, revocation, userinfo) and the
//! [`authorize::Authorizer`] (authorization endpoint, sign-in, consent, sessions, logout).
//! A token request flows through [`client_auth`] (who is calling), the
//! [`grants::Registry`] (which handler serves the `grant_type`), [`access`] (scopes and
//! audiences) and [`tokens::Minter`] (claims, then signing or storing); the code and refresh
//! grants issue a sign-in's tokens through [`tokens::family`]. Stored grants are read and
//! written through [`repository`], never as raw bytes.
//!
//! **What it does not contain:** no async runtime, HTTP, storage, Azure or Kubernetes code. It
//! talks to the outside through traits — [`store::GrantStore`] (implemented by `sigil-store`
//! and its client), [`signing::TokenSigner`] (implemented by `sigil-keys`) and
//! [`secret::SecretChecks`] (argon2id checks on bounded threads, implemented by
//! `sigil-server`). The HTTP layer reaches the key ring through two more, both implemented by
//! `sigil-keys`: [`sealing::Sealer`] (cookies and CSRF tokens under the shared session
//! secret, over the one AES-256-GCM primitive in [`aead`]) and
//! [`published_keys::PublishedKeys`] (the JWKS). Users sign in through
//! [`model::UserStore`]; [`users::ConfiguredUsers`] is the built-in store.
//! Time is passed in ([`time::Timestamp`]); nothing here reads the clock on a protocol path.

pub mod access;
pub mod aead;
pub mod audit;
pub mod authorize;
pub mod client_auth;
pub mod context;
pub mod endpoint;
pub mod error;
pub mod grants;
pub mod handle;
pub mod model;
pub mod parameters;
pub mod pkce;
pub mod published_keys;
pub mod repository;
pub mod scope;
pub mod sealing;
pub mod secret;
pub mod signing;
pub mod store;
pub mod time;
pub mod tokens;
pub mod users;

#[cfg(test)]
mod testing;
