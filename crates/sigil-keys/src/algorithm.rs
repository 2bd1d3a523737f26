//! The JWS algorithms Sigil signs with ([`Algorithm`], defined by the protocol core, which
//! names the algorithm of each token it mints), and the set one deployment signs with.

pub use sigil_core::signing::{Algorithm, UnknownAlgorithm};

/// The algorithms a key ring signs with: one for access tokens, and every other one an ID
/// token may be signed with (RS256 whenever OpenID Connect is used, OIDC Core §15.1, and what
/// clients register as `id_token_signed_response_alg`).
///
/// Each algorithm has its own chain of keys with its own lifecycle (one active key per
/// algorithm); a ring is ready only once each has a key that can sign. A single algorithm
/// converts into a set of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningAlgorithms {
    access_token: Algorithm,
    /// Sorted, without duplicates, `access_token` included.
    all: Vec<Algorithm>,
}

impl SigningAlgorithms {
    /// Access tokens with `access_token`; keys kept for it and for each of `others`.
    pub fn new(access_token: Algorithm, others: impl IntoIterator<Item = Algorithm>) -> Self {
        let mut all: Vec<Algorithm> = others.into_iter().collect();
        all.push(access_token);
        all.sort_unstable();
        all.dedup();
        Self { access_token, all }
    }

    /// The algorithm access tokens are signed with.
    pub fn access_token(&self) -> Algorithm {
        self.access_token
    }

    /// Every algorithm, in a fixed order (RS256, PS256, ES256, EdDSA).
    pub fn all(&self) -> &[Algorithm] {
        &self.all
    }

    /// True if keys are kept for `alg`.
    pub fn contains(&self, alg: Algorithm) -> bool {
        self.all.contains(&alg)
    }
}

impl From<Algorithm> for SigningAlgorithms {
    fn from(alg: Algorithm) -> Self {
        Self::new(alg, [])
    }
}

impl std::fmt::Display for SigningAlgorithms {
    /// `ES256 (access tokens), RS256`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (index, alg) in self.all.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{alg}")?;
            if *alg == self.access_token && self.all.len() > 1 {
                f.write_str(" (access tokens)")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_access_token_algorithm_is_always_in_the_set_once() {
        let algs = SigningAlgorithms::new(Algorithm::ES256, [Algorithm::RS256, Algorithm::ES256]);
        assert_eq!(algs.all(), [Algorithm::RS256, Algorithm::ES256]);
        assert_eq!(algs.access_token(), Algorithm::ES256);
        assert_eq!(algs.to_string(), "RS256, ES256 (access tokens)");
        assert_eq!(
            SigningAlgorithms::from(Algorithm::EdDSA).to_string(),
            "EdDSA"
        );
    }
}
