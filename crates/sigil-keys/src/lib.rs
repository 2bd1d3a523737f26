//! # sigil-keys — Sigil's signing keys
//!
//! Loads private keys, decides which one signs, publishes the public halves as a JWKS, and
//! signs and verifies JWTs. Keys are parsed once, when loaded, into aws-lc-rs key pairs, and
//! their JWS headers are encoded then too: signing a token is one signature plus base64, with
//! no key parsing on the request path.
//!
//! **Where to start:** [`KeyRing`] — the loaded keys, the one that signs
//! ([`KeyRing::active`], a pure function of the key set and the time, so every replica
//! agrees), and the JWKS document, serialized once. It implements `sigil-core`'s
//! [`TokenSigner`](sigil_core::signing::TokenSigner), the only thing the protocol core sees.
//! [`SharedKeyRing`] lets one refresher swap in a new ring while requests keep reading.
//!
//! Keys are [`SigningKey`]s (RS256, PS256, ES256 or EdDSA: [`Algorithm`]), with the RFC 7638
//! thumbprint as `kid`. They come from a [`KeySource`]: [`FileKeySource`] (a directory of
//! PEM files with optional JSON sidecars) or [`DevKeySource`] (generated once and persisted,
//! for `sigil dev`).
//!
//! **What it does not contain:** the Azure Key Vault and Kubernetes Secret sources live in
//! their own crates (later), so their SDKs stay out of everything else; they implement
//! [`KeySource`]. The rotation policy (pending → active → retired) is a later issue; it
//! replaces the one selection function behind [`KeyRing::active`].

mod activation;
mod algorithm;
mod der;
mod dev;
mod error;
mod file;
mod header;
mod jwk;
mod jws;
mod key;
mod key_ring;
mod shared;
mod source;

pub use algorithm::{Algorithm, UnknownAlgorithm};
pub use dev::DevKeySource;
pub use error::{BoxedCause, KeyError, KeyRingError};
pub use file::FileKeySource;
pub use key::SigningKey;
pub use key_ring::KeyRing;
pub use shared::SharedKeyRing;
pub use source::{KeySource, KeySourceError};
