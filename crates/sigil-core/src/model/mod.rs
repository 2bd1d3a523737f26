//! What the server knows about: clients, API scopes and API resources, identity scopes, indexed
//! in a [`Catalog`]; and users, behind the [`UserStore`] trait. [`WebOrigin`] is a browser
//! origin a client may call from (CORS).

mod catalog;
mod client;
mod identity;
mod origin;
mod resource;
mod session;
mod user;

pub use catalog::Catalog;
pub use client::{
    AccessTokenFormat, Client, ClientJwk, ClientJwkError, RefreshIssue, RefreshPolicy,
    ResponseType, SignInPolicy, TokenEndpointAuthMethod,
};
pub use identity::{IdentityScope, OFFLINE_ACCESS, OPENID, standard_identity_scopes};
pub use origin::{OriginError, WebOrigin};
pub use resource::{ApiResource, ApiScope};
pub use session::Session;
pub use user::{User, UserStore, UserStoreError};
