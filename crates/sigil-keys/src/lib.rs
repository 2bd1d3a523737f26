//! # sigil-keys — Sigil's signing keys and session secrets
//!
//! Loads private keys, decides which one signs, publishes the public halves as a JWKS, and
//! signs and verifies JWTs. Keys are parsed once, when loaded, into aws-lc-rs key pairs, and
//! their JWS headers are encoded then too: signing a token is one signature plus base64, with
//! no key parsing on the request path.
//!
//! **Where to start:** [`KeyRing`] — the loaded keys, where each one is in its lifecycle
//! (pending → active → retired, from its times and the [`RotationPolicy`]), the one that signs
//! ([`KeyRing::active`], a pure function of the key set and the time, so every pod agrees
//! without talking), the JWKS, and the session secrets that seal cookies
//! ([`KeyRing::seal_at`]). It implements `sigil-core`'s
//! [`TokenSigner`](sigil_core::signing::TokenSigner), the only thing the protocol core sees.
//! [`SharedKeyRing`] lets one [`KeyRefresher`] swap in a new ring while requests keep reading,
//! and keeps the last good ring through a source outage.
//!
//! Keys are [`SigningKey`]s (RS256, PS256, ES256 or EdDSA: [`Algorithm`]), local or
//! [remote](RemoteSigner), with the RFC 7638 thumbprint as default `kid`. A ring signs with
//! several algorithms side by side ([`SigningAlgorithms`]: one for access tokens, others for
//! ID tokens), each with its own chain of keys. They come from a
//! [`KeySource`] as a [`KeySet`]: [`FileKeySource`] (a directory in the
//! [key-file layout](key_files), watched for changes) or [`DevKeySource`] (generated once
//! and persisted, for `sigil dev`). Sources that `sigil keys` writes to implement
//! [`KeyFileStore`].
//!
//! **What it does not contain:** the Azure Key Vault and Kubernetes Secret sources live in
//! `sigil-azure` and `sigil-kube`, so their SDKs stay out of everything else; they implement
//! [`KeySource`].

mod algorithm;
mod der;
mod dev;
mod error;
mod file;
mod header;
mod jwk;
mod jws;
mod key;
pub mod key_files;
mod key_ring;
mod key_set;
pub mod maintenance;
mod policy;
mod refresher;
mod remote;
mod seal;
mod secret;
mod shared;
mod source;
mod write_file;

pub use algorithm::{Algorithm, SigningAlgorithms, UnknownAlgorithm};
pub use dev::DevKeySource;
pub use error::{BoxedCause, KeyError, KeyRingError};
pub use file::FileKeySource;
pub use key::SigningKey;
pub use key_files::{KeyFileChange, KeyFileStore, KeyFiles, KeyMetadata, parse_key_files};
pub use key_ring::KeyRing;
pub use key_set::KeySet;
pub use policy::{KeyState, RotationPolicy};
pub use refresher::KeyRefresher;
pub use remote::RemoteSigner;
pub use seal::SealError;
pub use secret::SessionSecret;
pub use shared::{RefreshStatus, SharedKeyRing};
pub use sigil_core::time::Timestamp;
pub use source::{KeySource, KeySourceError};
