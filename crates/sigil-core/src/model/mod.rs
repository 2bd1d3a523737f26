//! What the server knows about: clients, API scopes and API resources, indexed in a [`Catalog`].

mod catalog;
mod client;
mod resource;

pub use catalog::Catalog;
pub use client::{AccessTokenFormat, Client, ClientJwk, TokenEndpointAuthMethod};
pub use resource::{ApiResource, ApiScope};
