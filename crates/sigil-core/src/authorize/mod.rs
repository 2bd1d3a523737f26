//! The authorization endpoint and the sign-in it drives (RFC 6749 §4.1, OIDC Core §3).
//!
//! **Where to start:** [`Authorizer::authorize`] validates
//! a request ([`request`]) and returns the next [`AuthorizeStep`]: the login page, the consent
//! page, or the response for the client ([`Issued`], delivered per [`ResponseMode`]). The
//! request travels sealed through the pages; the [`Session`] lives in a sealed cookie and a
//! grant-store record, so any pod can carry on where another left off.

mod authorizer;
pub mod client_address;
mod flow;
mod hint;
mod issue;
mod login;
mod logout;
mod redirect;
pub mod request;
mod throttle;

#[cfg(test)]
mod tests;

pub use authorizer::Authorizer;
pub use flow::{AuthorizeStep, ConsentDecision};
pub use issue::Issued;
pub use login::{LoginAttempt, SignInOutcome};
pub use logout::LogoutRequest;
pub use redirect::{ClientRedirect, ResponseMode};
pub use request::{AuthorizationRequest, AuthorizeError, Prompt};
pub use throttle::{LoginThrottle, ThrottleReason, Throttled};
