//! PKCE (RFC 7636): the code is bound to a secret only the client that started the flow knows.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

/// How the challenge was derived from the verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChallengeMethod {
    /// `S256`: the challenge is base64url(SHA-256(verifier)).
    S256,
    /// `plain`: the challenge is the verifier; only for clients allowed it.
    Plain,
}

impl ChallengeMethod {
    /// Parses `code_challenge_method`; RFC 7636 §4.3 makes a missing one `plain`.
    pub fn parse(value: Option<&str>) -> Option<Self> {
        match value {
            Some("S256") => Some(Self::S256),
            Some("plain") | None => Some(Self::Plain),
            Some(_) => None,
        }
    }
}

/// A PKCE challenge sent with an authorization request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeChallenge {
    /// The challenge as sent.
    pub challenge: String,
    /// Its method.
    pub method: ChallengeMethod,
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
pub fn is_valid_verifier(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

impl CodeChallenge {
    /// True if `verifier` is the one this challenge was made from.
    pub fn verify(&self, verifier: &str) -> bool {
        if !is_valid_verifier(verifier) {
            return false;
        }
        let expected = match self.method {
            ChallengeMethod::S256 => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            ChallengeMethod::Plain => verifier.to_owned(),
        };
        bool::from(expected.as_bytes().ct_eq(self.challenge.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    #[test]
    fn rfc_7636_appendix_b_example() {
        let challenge = CodeChallenge {
            challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            method: ChallengeMethod::S256,
        };
        assert!(challenge.verify(VERIFIER));
        assert!(!challenge.verify(&VERIFIER.replace('d', "e")));
    }

    #[test]
    fn a_plain_challenge_does_not_pass_as_its_own_s256_verifier() {
        let s256 = CodeChallenge {
            challenge: VERIFIER.into(),
            method: ChallengeMethod::S256,
        };
        assert!(!s256.verify(VERIFIER), "challenge sent as verifier");
        let plain = CodeChallenge {
            challenge: VERIFIER.into(),
            method: ChallengeMethod::Plain,
        };
        assert!(plain.verify(VERIFIER));
    }

    #[test]
    fn malformed_verifiers_fail() {
        let challenge = CodeChallenge {
            challenge: "short".into(),
            method: ChallengeMethod::Plain,
        };
        assert!(!challenge.verify("short"), "under 43 characters");
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&format!("{}!", "a".repeat(43))));
        assert_eq!(ChallengeMethod::parse(None), Some(ChallengeMethod::Plain));
        assert_eq!(ChallengeMethod::parse(Some("S512")), None);
    }
}
