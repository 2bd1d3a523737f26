//! The claims of JWT access tokens (RFC 9068 §2.2) and the `aud` claim's two forms.

use serde::{Deserialize, Serialize};

/// `aud`: one audience as a string, several as an array (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Audience {
    /// The compact form for a list of audiences.
    pub fn from_list(audiences: &[String]) -> Self {
        match audiences {
            [only] => Self::One(only.clone()),
            many => Self::Many(many.to_vec()),
        }
    }

    /// True if there is no audience at all.
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Many(many) if many.is_empty())
    }

    /// True if `audience` is among them.
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Self::One(one) => one == audience,
            Self::Many(many) => many.iter().any(|each| each == audience),
        }
    }
}

/// The claims of a JWT access token (RFC 9068 §2.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// Issuer.
    pub iss: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// The APIs the token is for.
    pub aud: Audience,
    /// The resource owner, or the client itself for client credentials.
    pub sub: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Issued at.
    pub iat: u64,
    /// Unique token id.
    pub jti: String,
    /// Space-separated scopes.
    pub scope: String,
}
