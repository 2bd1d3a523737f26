//! # sigil-keys — signing keys for Sigil
//!
//! Keys are parsed once, when loaded, into aws-lc-rs key pairs; signing a token is then one
//! signature operation plus base64, with no key parsing on the request path.
//!
//! **Where to start:** [`KeyRing`] — the loaded keys, which one signs ([`KeyRing::active`], a
//! pure function of the key set and the time, so every pod agrees), and the JWKS that
//! publishes them. It implements `sigil-core`'s [`TokenSigner`](sigil_core::signing::TokenSigner).
//! [`SharedKeyRing`] lets one refresher replace the ring while requests keep reading it.
//! Keys come from a [`KeySource`]: [`FileKeySource`] (a directory of PEM files) or
//! [`DevKeySource`] (generated once and persisted, for `sigil dev`).
//!
//! **What it does not contain:** the Azure Key Vault and Kubernetes Secret sources live in
//! their own crates, so their dependencies stay out of everything else. The rotation policy
//! (pending → active → retired) builds on [`KeyRing::active`].

mod algorithm;
mod dev;
mod error;
mod file;
mod jwk;
mod key;
mod key_ring;
mod shared;
mod source;

pub use algorithm::Algorithm;
pub use dev::DevKeySource;
pub use error::{KeyError, KeySourceError};
pub use file::FileKeySource;
pub use key::SigningKey;
pub use key_ring::KeyRing;
pub use shared::SharedKeyRing;
pub use source::KeySource;
