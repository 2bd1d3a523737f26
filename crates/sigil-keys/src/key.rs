//! One signing key, parsed once: the private key for signing, the public key for verifying,
//! and its public JWK.

use crate::jwk::{public_jwk, thumbprint};
use crate::{Algorithm, KeyError};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{self, KeySize};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, UnparsedPublicKey, VerificationAlgorithm,
};
use sigil_core::signing::SigningError;
use sigil_core::time::Timestamp;

/// RSA keys shorter than this are refused (NIST SP 800-131A).
const MIN_RSA_BITS: usize = 2048;

/// The parsed private key.
enum PrivateKey {
    Rsa(rsa::KeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// What kind of key a PEM held, before an algorithm is chosen.
enum Material {
    Rsa(rsa::KeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A signing key with its metadata.
pub struct SigningKey {
    kid: String,
    alg: Algorithm,
    not_before: Timestamp,
    private: PrivateKey,
    public: UnparsedPublicKey<Vec<u8>>,
    jwk: serde_json::Value,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("not_before", &self.not_before)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Parses a PEM private key: PKCS#8 (`PRIVATE KEY`) for any type, PKCS#1
    /// (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`). `alg` defaults from the key type
    /// (RSA → RS256, P-256 → ES256, Ed25519 → EdDSA); `kid` is the RFC 7638 thumbprint.
    pub fn from_pem(
        pem_text: &str,
        alg: Option<Algorithm>,
        not_before: Timestamp,
    ) -> Result<Self, KeyError> {
        let block = pem::parse(pem_text).map_err(|e| KeyError::Encoding(e.to_string()))?;
        let der = block.contents();
        let rejected = |e: aws_lc_rs::error::KeyRejected| KeyError::Rejected(e.to_string());
        let material = match block.tag() {
            "PRIVATE KEY" => parse_pkcs8(der)?,
            "RSA PRIVATE KEY" => Material::Rsa(rsa::KeyPair::from_der(der).map_err(rejected)?),
            "EC PRIVATE KEY" => Material::Ecdsa(
                EcdsaKeyPair::from_private_key_der(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    der,
                )
                .map_err(rejected)?,
            ),
            other => return Err(KeyError::Encoding(format!("PEM label `{other}`"))),
        };
        Self::from_material(material, alg, not_before)
    }

    /// Generates a key for `alg` (RSA keys are 2048 bits); returns it with its PKCS#8 PEM for
    /// persisting.
    pub fn generate(alg: Algorithm) -> Result<(Self, String), KeyError> {
        let rng = SystemRandom::new();
        let pkcs8: Vec<u8> = match alg {
            Algorithm::RS256 | Algorithm::PS256 => {
                let pair =
                    rsa::KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generation)?;
                pair.as_der()
                    .map_err(|_| KeyError::Generation)?
                    .as_ref()
                    .to_vec()
            }
            Algorithm::ES256 => {
                EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| KeyError::Generation)?
                    .as_ref()
                    .to_vec()
            }
            Algorithm::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| KeyError::Generation)?
                .as_ref()
                .to_vec(),
        };
        let pem_text = pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8));
        let key = Self::from_pem(&pem_text, Some(alg), Timestamp(0))?;
        Ok((key, pem_text))
    }

    fn from_material(
        material: Material,
        alg: Option<Algorithm>,
        not_before: Timestamp,
    ) -> Result<Self, KeyError> {
        let (alg, private, public, jwk) = match material {
            Material::Rsa(pair) => {
                let alg = alg.unwrap_or(Algorithm::RS256);
                if !matches!(alg, Algorithm::RS256 | Algorithm::PS256) {
                    return Err(KeyError::Mismatch {
                        alg,
                        reason: "an RSA key".to_owned(),
                    });
                }
                let bits = pair.public_modulus_len() * 8;
                if bits < MIN_RSA_BITS {
                    return Err(KeyError::Mismatch {
                        alg,
                        reason: format!(
                            "RSA keys need at least {MIN_RSA_BITS} bits, this has {bits}"
                        ),
                    });
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
                (alg, PrivateKey::Rsa(pair), public, jwk)
            }
            Material::Ecdsa(pair) => {
                let alg = alg.unwrap_or(Algorithm::ES256);
                if alg != Algorithm::ES256 {
                    return Err(KeyError::Mismatch {
                        alg,
                        reason: "a P-256 key".to_owned(),
                    });
                }
                let point = pair.public_key().as_ref().to_vec();
                let jwk = public_jwk::p256(&point)
                    .ok_or_else(|| KeyError::Rejected("unexpected EC point encoding".into()))?;
                let public = UnparsedPublicKey::new(
                    &signature::ECDSA_P256_SHA256_FIXED as &dyn VerificationAlgorithm,
                    point,
                );
                (alg, PrivateKey::Ecdsa(pair), public, jwk)
            }
            Material::Ed25519(pair) => {
                let alg = alg.unwrap_or(Algorithm::EdDSA);
                if alg != Algorithm::EdDSA {
                    return Err(KeyError::Mismatch {
                        alg,
                        reason: "an Ed25519 key".to_owned(),
                    });
                }
                let point = pair.public_key().as_ref().to_vec();
                let jwk = public_jwk::ed25519(&point);
                let public = UnparsedPublicKey::new(
                    &signature::ED25519 as &dyn VerificationAlgorithm,
                    point,
                );
                (alg, PrivateKey::Ed25519(pair), public, jwk)
            }
        };
        let kid = thumbprint(&jwk);
        let mut jwk = jwk;
        if let Some(members) = jwk.as_object_mut() {
            members.insert("kid".into(), kid.clone().into());
            members.insert("alg".into(), alg.as_str().into());
            members.insert("use".into(), "sig".into());
        }
        Ok(Self {
            kid,
            alg,
            not_before,
            private,
            public,
            jwk,
        })
    }

    /// The key id (RFC 7638 thumbprint of the public key).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// From when the key may sign.
    pub fn not_before(&self) -> Timestamp {
        self.not_before
    }

    /// The public JWK (with `kid`, `alg`, `use`), never any private member.
    pub fn public_jwk(&self) -> &serde_json::Value {
        &self.jwk
    }

    /// Signs `message`; ECDSA signatures are in the fixed `r || s` form JWS uses.
    pub fn sign(&self, rng: &SystemRandom, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        let failed = |_| SigningError::Crypto(format!("{} signing failed", self.alg));
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

    /// True if `signature` is this key's signature over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.public.verify(message, signature).is_ok()
    }
}

fn parse_pkcs8(der: &[u8]) -> Result<Material, KeyError> {
    if let Ok(pair) = rsa::KeyPair::from_pkcs8(der) {
        return Ok(Material::Rsa(pair));
    }
    if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der) {
        return Ok(Material::Ecdsa(pair));
    }
    if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
        return Ok(Material::Ed25519(pair));
    }
    Err(KeyError::Rejected(
        "not an RSA, P-256 or Ed25519 PKCS#8 key".to_owned(),
    ))
}
