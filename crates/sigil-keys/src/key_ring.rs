//! The key ring: the loaded keys, which one signs, and the JWKS that publishes them.

use crate::{Algorithm, SigningKey};
use aws_lc_rs::rand::SystemRandom;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use serde::Deserialize;
use sigil_core::signing::{SigningError, TokenSigner, VerifiedJwt, VerifyError};
use sigil_core::time::Timestamp;
use std::sync::Arc;

/// An immutable set of keys. A refresher builds a new ring and swaps it in whole
/// ([`crate::SharedKeyRing`]); requests never see a half-updated set.
pub struct KeyRing {
    keys: Vec<Arc<SigningKey>>,
    signing_alg: Algorithm,
    jwks: Bytes,
    rng: SystemRandom,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("keys", &self.keys)
            .field("signing_alg", &self.signing_alg)
            .finish()
    }
}

#[derive(Deserialize)]
struct Header<'a> {
    alg: &'a str,
    kid: Option<&'a str>,
    typ: Option<String>,
}

impl KeyRing {
    /// A ring over `keys` that signs with `signing_alg`. Every key is published.
    pub fn new(keys: Vec<SigningKey>, signing_alg: Algorithm) -> Result<Self, serde_json::Error> {
        let keys: Vec<Arc<SigningKey>> = keys.into_iter().map(Arc::new).collect();
        let published: Vec<&serde_json::Value> = keys.iter().map(|key| key.public_jwk()).collect();
        let jwks = Bytes::from(serde_json::to_vec(
            &serde_json::json!({ "keys": published }),
        )?);
        Ok(Self {
            keys,
            signing_alg,
            jwks,
            rng: SystemRandom::new(),
        })
    }

    /// The key that signs `alg` at `now`: the newest one (by `not_before`) already valid.
    /// A pure function of the key set and the time, so every pod picks the same key.
    pub fn active(&self, alg: Algorithm, now: Timestamp) -> Option<&Arc<SigningKey>> {
        self.keys
            .iter()
            .filter(|key| key.alg() == alg && key.not_before() <= now)
            .max_by(|a, b| {
                a.not_before()
                    .cmp(&b.not_before())
                    .then_with(|| a.kid().cmp(b.kid()))
            })
    }

    /// The algorithm tokens are signed with.
    pub fn signing_alg(&self) -> Algorithm {
        self.signing_alg
    }

    /// Every loaded key.
    pub fn keys(&self) -> &[Arc<SigningKey>] {
        &self.keys
    }

    /// The JWKS document, serialized once.
    pub fn jwks_json(&self) -> Bytes {
        self.jwks.clone()
    }

    /// Signs at an explicit time (the [`TokenSigner`] impl uses the clock).
    pub fn sign_at(
        &self,
        typ: &str,
        claims_json: &[u8],
        now: Timestamp,
    ) -> Result<String, SigningError> {
        let key = self
            .active(self.signing_alg, now)
            .ok_or_else(|| SigningError::NoActiveKey(self.signing_alg.to_string()))?;
        let header = format!(
            r#"{{"alg":"{}","kid":"{}","typ":"{}"}}"#,
            key.alg(),
            key.kid(),
            typ
        );
        let b64_len = |n: usize| n.div_ceil(3) * 4;
        let mut token =
            String::with_capacity(b64_len(header.len()) + b64_len(claims_json.len()) + 700);
        URL_SAFE_NO_PAD.encode_string(header, &mut token);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(claims_json, &mut token);
        let signature = key.sign(&self.rng, token.as_bytes())?;
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }
}

impl TokenSigner for KeyRing {
    fn sign(&self, typ: &str, claims_json: &[u8]) -> Result<String, SigningError> {
        self.sign_at(typ, claims_json, Timestamp::now())
    }

    fn verify(&self, token: &str) -> Result<VerifiedJwt, VerifyError> {
        let mut parts = token.split('.');
        let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VerifyError::Malformed);
        };
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| VerifyError::Malformed)
        };
        let header_json = decode(header_b64)?;
        let header: Header<'_> =
            serde_json::from_slice(&header_json).map_err(|_| VerifyError::Malformed)?;
        let key = self
            .keys
            .iter()
            .find(|key| Some(key.kid()) == header.kid)
            .ok_or(VerifyError::UnknownKey)?;
        // The key decides the algorithm; a header naming another one (`none`, HS256, or RS256
        // on a PS256 key) is refused before any cryptography.
        if header.alg != key.alg().as_str() {
            return Err(VerifyError::UnknownKey);
        }
        let signature = decode(signature_b64)?;
        let signed_len = header_b64.len() + 1 + claims_b64.len();
        let signed = token.get(..signed_len).ok_or(VerifyError::Malformed)?;
        if !key.verify(signed.as_bytes(), &signature) {
            return Err(VerifyError::BadSignature);
        }
        let claims =
            serde_json::from_slice(&decode(claims_b64)?).map_err(|_| VerifyError::Malformed)?;
        Ok(VerifiedJwt {
            typ: header.typ,
            claims,
        })
    }
}
