//! The JWS algorithms Sigil signs with, named as JOSE names them (RFC 7518, RFC 8037).

use serde::{Deserialize, Serialize};

/// A JWS signing algorithm Sigil signs with. Parses from, displays as and serializes to its
/// JOSE name (`"RS256"`, `"PS256"`, `"ES256"`, `"EdDSA"`; case-sensitive).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: the default, accepted by every validator.
    #[default]
    RS256,
    /// RSASSA-PSS with SHA-256 (MGF1 SHA-256, 32-byte salt).
    PS256,
    /// ECDSA on P-256 with SHA-256: about ten times faster to sign than RSA.
    ES256,
    /// Ed25519 (RFC 8037): the fastest to sign, not yet accepted by every validator.
    EdDSA,
}

impl Algorithm {
    /// Every algorithm.
    pub const ALL: [Self; 4] = [Self::RS256, Self::PS256, Self::ES256, Self::EdDSA];

    /// The JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    /// The algorithm for a JOSE name, if it is one this crate signs with.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.as_str() == name)
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the supported JOSE algorithms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported signing algorithm `{0}` (RS256, PS256, ES256 or EdDSA)")]
pub struct UnknownAlgorithm(pub String);

impl std::str::FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::from_name(name).ok_or_else(|| UnknownAlgorithm(name.to_owned()))
    }
}
