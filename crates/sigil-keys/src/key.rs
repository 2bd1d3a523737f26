//! One signing key, parsed once when loaded: the private key that signs, the public key that
//! verifies, its public JWK and its pre-encoded JWS headers. Nothing here is parsed again per
//! request.

use crate::der::{Pkcs8Kind, pkcs8_kind};
use crate::header::EncodedHeaders;
use crate::jwk::{public_jwk, thumbprint};
use crate::{Algorithm, KeyError};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::error::KeyRejected;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{self, KeySize};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey, VerificationAlgorithm,
};
use sigil_core::signing::SigningError;
use sigil_core::time::Timestamp;
use std::borrow::Cow;

/// RSA keys shorter than this are refused (NIST SP 800-131A). aws-lc-rs refuses them too;
/// this check keeps the rule here, whatever the library's.
const MIN_RSA_BITS: usize = 2048;

/// The parsed private key.
enum PrivateKey {
    Rsa(rsa::KeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

impl PrivateKey {
    fn describe(&self) -> &'static str {
        match self {
            Self::Rsa(_) => "an RSA",
            Self::Ecdsa(_) => "a P-256",
            Self::Ed25519(_) => "an Ed25519",
        }
    }

    fn default_alg(&self) -> Algorithm {
        match self {
            Self::Rsa(_) => Algorithm::RS256,
            Self::Ecdsa(_) => Algorithm::ES256,
            Self::Ed25519(_) => Algorithm::EdDSA,
        }
    }

    fn fits(&self, alg: Algorithm) -> bool {
        matches!(
            (self, alg),
            (Self::Rsa(_), Algorithm::RS256 | Algorithm::PS256)
                | (Self::Ecdsa(_), Algorithm::ES256)
                | (Self::Ed25519(_), Algorithm::EdDSA)
        )
    }
}

/// A private signing key with its algorithm, key id and validity.
///
/// The key id is the RFC 7638 SHA-256 thumbprint of the public key, so the same key gets the
/// same `kid` wherever and whenever it is loaded. Both timestamps default to the epoch;
/// sources set them with [`with_created`](Self::with_created) and
/// [`with_not_before`](Self::with_not_before).
pub struct SigningKey {
    kid: String,
    alg: Algorithm,
    created: Timestamp,
    not_before: Timestamp,
    private: PrivateKey,
    public: UnparsedPublicKey<Vec<u8>>,
    jwk: serde_json::Value,
    headers: EncodedHeaders,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("created", &self.created)
            .field("not_before", &self.not_before)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses a PEM private key: PKCS#8 (`PRIVATE KEY`) of any supported type, PKCS#1
    /// (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`, P-256). An `EC PARAMETERS` block next
    /// to the key is ignored. `alg` defaults from the key type (RSA → RS256, P-256 → ES256,
    /// Ed25519 → EdDSA).
    pub fn from_pem(pem_text: &str, alg: Option<Algorithm>) -> Result<Self, KeyError> {
        let blocks = pem::parse_many(pem_text).map_err(|e| KeyError::NotPem(Box::new(e)))?;
        let mut keys = Vec::with_capacity(1);
        for block in &blocks {
            match block.tag() {
                "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => keys.push(block),
                // openssl's `ecparam -genkey` writes the curve first; the key names it anyway.
                "EC PARAMETERS" => {}
                other => return Err(KeyError::UnsupportedLabel(other.to_owned())),
            }
        }
        let [block] = keys.as_slice() else {
            return Err(KeyError::NotOneKey(keys.len()));
        };
        let der = block.contents();
        let private = match block.tag() {
            "RSA PRIVATE KEY" => {
                PrivateKey::Rsa(rsa::KeyPair::from_der(der).map_err(rejected("PKCS#1 RSA"))?)
            }
            "EC PRIVATE KEY" => PrivateKey::Ecdsa(
                EcdsaKeyPair::from_private_key_der(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    der,
                )
                .map_err(rejected("SEC1 P-256"))?,
            ),
            _ => match pkcs8_kind(der) {
                Pkcs8Kind::Rsa => {
                    PrivateKey::Rsa(rsa::KeyPair::from_pkcs8(der).map_err(rejected("PKCS#8 RSA"))?)
                }
                Pkcs8Kind::Ec => PrivateKey::Ecdsa(
                    EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                        .map_err(rejected("PKCS#8 P-256"))?,
                ),
                Pkcs8Kind::Ed25519 => PrivateKey::Ed25519(
                    Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                        .map_err(rejected("PKCS#8 Ed25519"))?,
                ),
                Pkcs8Kind::Other => return Err(KeyError::UnsupportedKeyType),
            },
        };
        Self::from_private(private, alg)
    }

    /// Generates a key for `alg` (RSA keys are 2048 bits), created and valid from now.
    /// Returns it with its PKCS#8 PEM, to be persisted by the caller.
    pub fn generate(alg: Algorithm) -> Result<(Self, String), KeyError> {
        let generation = |_| KeyError::Generation;
        let rng = SystemRandom::new();
        let (private, pkcs8) = match alg {
            Algorithm::RS256 | Algorithm::PS256 => {
                let pair = rsa::KeyPair::generate(KeySize::Rsa2048).map_err(generation)?;
                let pkcs8 = pair.as_der().map_err(generation)?.as_ref().to_vec();
                (PrivateKey::Rsa(pair), pkcs8)
            }
            Algorithm::ES256 => {
                let signing = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
                let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &rng).map_err(generation)?;
                let pair = EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref())
                    .map_err(|_| KeyError::Generation)?;
                (PrivateKey::Ecdsa(pair), pkcs8.as_ref().to_vec())
            }
            Algorithm::EdDSA => {
                let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(generation)?;
                let pair =
                    Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| KeyError::Generation)?;
                (PrivateKey::Ed25519(pair), pkcs8.as_ref().to_vec())
            }
        };
        let now = Timestamp::now();
        let key = Self::from_private(private, Some(alg))?
            .with_created(now)
            .with_not_before(now);
        Ok((key, pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8))))
    }

    fn from_private(private: PrivateKey, alg: Option<Algorithm>) -> Result<Self, KeyError> {
        let alg = alg.unwrap_or_else(|| private.default_alg());
        if !private.fits(alg) {
            return Err(KeyError::Mismatch {
                alg,
                key_type: private.describe(),
            });
        }
        let (public, jwk) = match &private {
            PrivateKey::Rsa(pair) => {
                if pair.public_modulus_len() * 8 < MIN_RSA_BITS {
                    return Err(KeyError::WeakRsaKey);
                }
                let public_key = pair.public_key();
                let jwk = public_jwk::rsa(
                    public_key.modulus().big_endian_without_leading_zero(),
                    public_key.exponent().big_endian_without_leading_zero(),
                );
                let verification: &'static dyn VerificationAlgorithm = match alg {
                    Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
                    _ => &signature::RSA_PKCS1_2048_8192_SHA256,
                };
                let public = UnparsedPublicKey::new(verification, public_key.as_ref().to_vec());
                (public, jwk)
            }
            PrivateKey::Ecdsa(pair) => {
                let point = pair.public_key().as_ref().to_vec();
                let jwk = public_jwk::p256(&point).ok_or(KeyError::UnsupportedKeyType)?;
                let verification: &'static dyn VerificationAlgorithm =
                    &signature::ECDSA_P256_SHA256_FIXED;
                (UnparsedPublicKey::new(verification, point), jwk)
            }
            PrivateKey::Ed25519(pair) => {
                let point = pair.public_key().as_ref().to_vec();
                let jwk = public_jwk::ed25519(&point);
                let verification: &'static dyn VerificationAlgorithm = &signature::ED25519;
                (UnparsedPublicKey::new(verification, point), jwk)
            }
        };
        let kid = thumbprint(&jwk);
        let jwk = public_jwk::with_use(jwk, &kid, alg);
        Ok(Self {
            headers: EncodedHeaders::new(alg, &kid),
            kid,
            alg,
            created: Timestamp(0),
            not_before: Timestamp(0),
            private,
            public,
            jwk,
        })
    }

    /// Records when the key was created (for rotation policy and operators; not for
    /// choosing between keys that are otherwise equal).
    #[must_use]
    pub fn with_created(mut self, created: Timestamp) -> Self {
        self.created = created;
        self
    }

    /// Sets from when the key may sign. It is published (and verifies) before that.
    #[must_use]
    pub fn with_not_before(mut self, not_before: Timestamp) -> Self {
        self.not_before = not_before;
        self
    }

    /// The key id (RFC 7638 thumbprint of the public key, base64url).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// When the key was created.
    pub fn created(&self) -> Timestamp {
        self.created
    }

    /// From when the key may sign.
    pub fn not_before(&self) -> Timestamp {
        self.not_before
    }

    /// The public JWK (with `kid`, `alg` and `use: sig`), never any private member.
    pub fn public_jwk(&self) -> &serde_json::Value {
        &self.jwk
    }

    /// The base64url JWS header `{"alg","kid","typ"}` for `typ`; the `typ` values this server
    /// issues were encoded when the key was loaded.
    pub fn encoded_header(&self, typ: &str) -> Cow<'_, str> {
        self.headers.get(typ)
    }

    /// The length of this key's signatures in bytes.
    pub fn signature_len(&self) -> usize {
        match &self.private {
            PrivateKey::Rsa(pair) => pair.public_modulus_len(),
            PrivateKey::Ecdsa(_) | PrivateKey::Ed25519(_) => 64,
        }
    }

    /// Signs `message`; ECDSA signatures come in the fixed `r || s` form JWS uses.
    pub fn sign(&self, rng: &SystemRandom, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        let failed = |_| SigningError::Crypto(format!("{} signature failed", self.alg));
        match &self.private {
            PrivateKey::Rsa(pair) => {
                let padding: &'static dyn signature::RsaEncoding = match self.alg {
                    Algorithm::PS256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut out = vec![0u8; pair.public_modulus_len()];
                pair.sign(padding, rng, message, &mut out).map_err(failed)?;
                Ok(out)
            }
            PrivateKey::Ecdsa(pair) => {
                Ok(pair.sign(rng, message).map_err(failed)?.as_ref().to_vec())
            }
            PrivateKey::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }

    /// True if `signature` is this key's signature over `message` with this key's algorithm.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.public.verify(message, signature).is_ok()
    }
}

/// Maps a parser's refusal; a short RSA key gets its own error, the rest keep their cause.
fn rejected(encoding: &'static str) -> impl Fn(KeyRejected) -> KeyError {
    move |error| {
        if error.description_() == "TooSmall" && encoding.ends_with("RSA") {
            KeyError::WeakRsaKey
        } else {
            KeyError::Rejected {
                encoding,
                source: Box::new(error),
            }
        }
    }
}
