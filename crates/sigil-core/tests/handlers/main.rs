//! The core's services and grant handlers against the real grant store (the embedded
//! openraft-over-sled state machine the cluster runs) and a real key ring: the protocol edge
//! cases of each grant — PKCE, redirect URIs, expiry, client mismatch, replay, rotation and
//! reuse, scopes — and of the authorizer, the sign-in throttle, introspection, revocation and
//! the grant registry, through the core's public API, without processes or HTTP. The core has
//! no second, in-memory store: what needs a store is tested here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

#[path = "../support/mod.rs"]
mod support;

mod authorization_code;
mod authorize;
mod client_credentials;
mod endpoints;
mod grant_kinds;
mod refresh_token;
mod sign_in_throttle;
