//! # sigil-server — Sigil's token service on actix-web
//!
//! The HTTP layer: routes, request parsing, response rendering, metrics, health and audit
//! events. It holds no protocol logic: every endpoint parses the request, calls one method of
//! [`sigil_core::endpoint::Provider`], renders the result and records it.
//!
//! **Where to start:** [`routes`] wires the endpoints (or [`public_routes`] and [`ops_routes`]
//! for a separate operations listener); [`endpoints::token`] shows the shape every endpoint
//! follows. [`AppState`] is what the binary builds and hands over, with a
//! [`secret_checks::SecretCheckPool`] that runs every argon2id check off the HTTP workers.
//! [`cors`] is the middleware that lets browser apps on other origins call the protocol
//! endpoints; [`drain`] takes a pod out of service on SIGTERM without failing a request.
//!
//! **What it does not contain:** no storage (the grant store is reached only through
//! `sigil-core`'s `GrantStore` trait, so this crate never depends on openraft or sled), no key
//! loading, no configuration parsing.

pub mod audit;
pub mod cors;
pub mod discovery;
pub mod drain;
pub mod endpoints;
mod errors;
mod form;
pub mod metrics;
mod nosniff;
mod routes;
pub mod secret_checks;
pub mod signin;
mod state;

pub use discovery::{Discovery, EndpointPaths};
pub use drain::{Drain, close_when_draining};
pub use form::BodyDeadline;
pub use nosniff::nosniff;
pub use routes::{ops_routes, public_routes, record_latency, routes};
pub use signin::{CookiePolicy, SealFailure, Sealer};
pub use state::AppState;
