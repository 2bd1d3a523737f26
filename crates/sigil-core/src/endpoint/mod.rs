//! The services the HTTP layer calls, one method per endpoint: the server parses the request,
//! calls one method, and renders the result.
//!
//! [`Services`] builds them once from [`ServiceSettings`](crate::context::ServiceSettings) over one shared
//! [`Context`](crate::context::Context):
//! - [`TokenService`] — the token endpoint: client authentication, the browser-origin check,
//!   and the grant registry ([`TokenService::register_grant`] is the extension point);
//! - [`TokenInspector`] — introspection, revocation and userinfo, which share one token lookup;
//! - [`Authorizer`](crate::authorize::Authorizer) — the authorization endpoint, sign-in,
//!   consent, sessions and logout (in [`crate::authorize`]).
//!
//! The token service and the inspector authenticate their callers the same way
//! (the private `caller` module); nothing below this module imports it.

mod browser_origin;
mod caller;
mod inspector;
mod services;
mod token;

pub use crate::authorize::LogoutRequest;
pub use crate::context::SessionSettings;
pub use crate::error::Failure;
pub use inspector::{
    IntrospectionResponse, IntrospectionSuccess, RevocationSuccess, TokenInspector,
};
pub use services::Services;
pub use token::{TokenService, TokenSuccess};
