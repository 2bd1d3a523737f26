//! What the browser-facing endpoints share: values sealed with the shared session secret
//! ([`sealed`]), the authorization request in flight between pages (`pending`), the session
//! and browser cookies ([`cookies`]), CSRF tokens ([`csrf`]), the server-rendered pages
//! ([`pages`]) and every response a browser gets ([`responses`]). Nothing here is kept in a
//! pod's memory: a browser may be served by a different pod on every request.

pub mod cookies;
pub mod csrf;
pub mod pages;
pub(crate) mod pending;
pub mod responses;
pub mod sealed;

pub use sealed::{SealFailure, Sealer};

/// Cookie settings.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    /// Mark cookies `Secure` (off only for local development over http).
    pub secure: bool,
}
