//! The grant handlers against the real grant store (the embedded openraft-over-sled state
//! machine the cluster runs) and a real key ring: the protocol edge cases of each grant —
//! PKCE, redirect URIs, expiry, client mismatch, replay, rotation and reuse, scopes — through
//! the core's public API, without processes or HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

#[path = "../support/mod.rs"]
mod support;

mod authorization_code;
mod client_credentials;
mod refresh_token;
