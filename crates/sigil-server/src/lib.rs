//! # sigil-server — Sigil's token service on actix-web
//!
//! The HTTP layer: routes, request reading, response rendering, metrics, health and audit
//! events. It holds no protocol logic: every endpoint reads its request, calls one method of
//! a core service ([`sigil_core::endpoint::Services`]), renders the result and records it.
//!
//! **Where to start:** [`routes`] wires the endpoints (or [`public_routes`] and [`ops_routes`]
//! for a separate operations listener); [`endpoints::token`] shows the shape every endpoint
//! follows. Requests are read by the extractors in [`extract`] (a form, or a client's form
//! with its `Authorization` header), whose typed [`extract::Rejection`] renders itself as the
//! protocol error. Browser-facing endpoints share [`signin`]: cookies, CSRF tokens, the
//! authorization request in flight between pages, and every browser response in
//! [`signin::responses`]; endpoint files never import each other. [`AppState`] is what the
//! binary builds and hands over: the core's [`Services`](sigil_core::endpoint::Services), and the key ring as the core's
//! [`Sealer`] and
//! [`PublishedKeys`](sigil_core::published_keys::PublishedKeys), with a
//! [`secret_checks::SecretCheckPool`] that runs every argon2id check (client secrets and the
//! core's built-in user store) off the HTTP workers. [`cors`] is the middleware that lets
//! browser apps on other origins call the protocol endpoints; [`drain`] takes a pod out of
//! service on SIGTERM without failing a request.
//!
//! **What it does not contain:** no storage (the grant store is reached only through
//! `sigil-core`'s `GrantStore` trait, so this crate never depends on openraft or sled), no
//! keys (only the core's traits), no user store (the core's), no configuration parsing.

pub mod audit;
pub mod cors;
pub mod discovery;
pub mod drain;
pub mod endpoints;
mod errors;
pub mod extract;
mod form;
pub mod metrics;
mod nosniff;
mod routes;
pub mod secret_checks;
pub mod signin;
mod state;
#[cfg(test)]
mod test_log;

pub use discovery::{Discovery, EndpointPaths};
pub use drain::{Drain, close_when_draining};
pub use form::BodyDeadline;
pub use nosniff::nosniff;
pub use routes::{ops_routes, public_routes, record_latency, routes};
pub use signin::{CookiePolicy, SealFailure, Sealer};
pub use state::AppState;
