//! One signing key, parsed once when loaded: the private key that signs, the public key that
//! verifies, its public JWK and its pre-encoded JWS headers. Nothing here is parsed again per
//! request.

use crate::der::{self, Pkcs8Kind, pkcs8_kind};
use crate::header::EncodedHeaders;
use crate::jwk::{public_jwk, thumbprint};
use crate::{Algorithm, KeyError, RemoteSigner};
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
use std::sync::Arc;

/// RSA keys shorter than this are refused (NIST SP 800-131A). aws-lc-rs refuses them too;
/// this check keeps the rule here, whatever the library's.
const MIN_RSA_BITS: usize = 2048;

/// The parsed private key, or the handle of one kept elsewhere.
enum PrivateKey {
    Rsa(rsa::KeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    /// Signs through a remote service; `signature_len` is the modulus length or 64.
    Remote {
        signer: Arc<dyn RemoteSigner>,
        signature_len: usize,
    },
}

impl PrivateKey {
    fn describe(&self) -> &'static str {
        match self {
            Self::Rsa(_) => "an RSA",
            Self::Ecdsa(_) => "a P-256",
            Self::Ed25519(_) => "an Ed25519",
            Self::Remote { .. } => "a remote",
        }
    }

    fn default_alg(&self) -> Algorithm {
        match self {
            Self::Rsa(_) => Algorithm::RS256,
            Self::Ecdsa(_) => Algorithm::ES256,
            Self::Ed25519(_) => Algorithm::EdDSA,
            Self::Remote { .. } => Algorithm::RS256,
        }
    }

    fn fits(&self, alg: Algorithm) -> bool {
        matches!(
            (self, alg),
            (Self::Rsa(_), Algorithm::RS256 | Algorithm::PS256)
                | (Self::Ecdsa(_), Algorithm::ES256)
                | (Self::Ed25519(_), Algorithm::EdDSA)
                | (
                    Self::Remote { .. },
                    Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES256
                )
        )
    }
}

/// A private signing key with its algorithm, key id and validity.
///
/// The key id is the RFC 7638 SHA-256 thumbprint of the public key, so the same key gets the
/// same `kid` wherever and whenever it is loaded (a source may set another with
/// [`with_kid`](Self::with_kid)). Both timestamps default to the epoch; sources set them with
/// [`with_created`](Self::with_created) and [`with_not_before`](Self::with_not_before). The
/// [`KeyRing`](crate::KeyRing) decides from them, and its rotation policy, when the key signs.
pub struct SigningKey {
    kid: String,
    alg: Algorithm,
    created: Timestamp,
    not_before: Timestamp,
    expires: Option<Timestamp>,
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
            .field("expires", &self.expires)
            .field("remote", &self.is_remote())
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

    /// Parses a private JWK (RFC 7517/7518/8037): `RSA` with all CRT members, `EC` on P-256
    /// with `d`, or `OKP` Ed25519 with `d`. `alg` defaults from the key type as for PEM; the
    /// JWK's own `kid` and `alg` members are the caller's to apply.
    pub fn from_private_jwk(
        jwk: &serde_json::Value,
        alg: Option<Algorithm>,
    ) -> Result<Self, KeyError> {
        let member = |name: &'static str| jwk_bytes(jwk, name);
        let private = match jwk.get("kty").and_then(serde_json::Value::as_str) {
            Some("RSA") => {
                let components = ["n", "e", "d", "p", "q", "dp", "dq", "qi"]
                    .into_iter()
                    .map(member)
                    .collect::<Result<Vec<_>, _>>()?;
                let pkcs1 = der::rsa_private_key(&components);
                PrivateKey::Rsa(rsa::KeyPair::from_der(&pkcs1).map_err(rejected("JWK RSA"))?)
            }
            Some("EC") => {
                if jwk.get("crv").and_then(serde_json::Value::as_str) != Some("P-256") {
                    return Err(KeyError::UnsupportedKeyType);
                }
                let point = [&[0x04][..], &member("x")?, &member("y")?].concat();
                PrivateKey::Ecdsa(
                    EcdsaKeyPair::from_private_key_and_public_key(
                        &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                        &member("d")?,
                        &point,
                    )
                    .map_err(rejected("JWK P-256"))?,
                )
            }
            Some("OKP") => {
                if jwk.get("crv").and_then(serde_json::Value::as_str) != Some("Ed25519") {
                    return Err(KeyError::UnsupportedKeyType);
                }
                PrivateKey::Ed25519(
                    Ed25519KeyPair::from_seed_and_public_key(&member("d")?, &member("x")?)
                        .map_err(rejected("JWK Ed25519"))?,
                )
            }
            _ => return Err(KeyError::UnsupportedKeyType),
        };
        Self::from_private(private, alg)
    }

    /// A key whose private half stays in another service: it signs through `signer` and
    /// verifies locally with `public_jwk` (`RSA` `n`/`e`, or `EC` P-256 `x`/`y`; other members
    /// are ignored). For RS256, PS256 and ES256.
    pub fn remote(
        alg: Algorithm,
        public_jwk: &serde_json::Value,
        signer: Arc<dyn RemoteSigner>,
    ) -> Result<Self, KeyError> {
        let kty = public_jwk.get("kty").and_then(serde_json::Value::as_str);
        let (public, jwk, signature_len) = match (kty, alg) {
            (Some("RSA" | "RSA-HSM"), Algorithm::RS256 | Algorithm::PS256) => {
                let modulus = strip_leading_zeros(jwk_bytes(public_jwk, "n")?);
                let exponent = strip_leading_zeros(jwk_bytes(public_jwk, "e")?);
                if modulus.len() * 8 < MIN_RSA_BITS {
                    return Err(KeyError::WeakRsaKey);
                }
                let jwk = public_jwk::rsa(&modulus, &exponent);
                let der = der::rsa_public_key(&modulus, &exponent);
                (rsa_verifier(alg, der), jwk, modulus.len())
            }
            (Some("EC" | "EC-HSM"), Algorithm::ES256) => {
                if public_jwk.get("crv").and_then(serde_json::Value::as_str) != Some("P-256") {
                    return Err(KeyError::UnsupportedKeyType);
                }
                let point = [
                    &[0x04][..],
                    &jwk_bytes(public_jwk, "x")?,
                    &jwk_bytes(public_jwk, "y")?,
                ]
                .concat();
                let jwk = public_jwk::p256(&point).ok_or(KeyError::UnsupportedKeyType)?;
                let verification: &'static dyn VerificationAlgorithm =
                    &signature::ECDSA_P256_SHA256_FIXED;
                (UnparsedPublicKey::new(verification, point), jwk, 64)
            }
            (Some(_), _) => {
                return Err(KeyError::Mismatch {
                    alg,
                    key_type: "this remote",
                });
            }
            (None, _) => return Err(KeyError::UnsupportedKeyType),
        };
        Ok(Self::assemble(
            alg,
            PrivateKey::Remote {
                signer,
                signature_len,
            },
            public,
            jwk,
        ))
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
                (rsa_verifier(alg, public_key.as_ref().to_vec()), jwk)
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
            PrivateKey::Remote { .. } => return Err(KeyError::UnsupportedKeyType),
        };
        Ok(Self::assemble(alg, private, public, jwk))
    }

    fn assemble(
        alg: Algorithm,
        private: PrivateKey,
        public: UnparsedPublicKey<Vec<u8>>,
        jwk: serde_json::Value,
    ) -> Self {
        let kid = thumbprint(&jwk);
        let jwk = public_jwk::with_use(jwk, &kid, alg);
        Self {
            headers: EncodedHeaders::new(alg, &kid),
            kid,
            alg,
            created: Timestamp(0),
            not_before: Timestamp(0),
            expires: None,
            private,
            public,
            jwk,
        }
    }

    /// Replaces the key id (for keys migrated from another server, whose tokens name their
    /// old `kid`). The JWK and the pre-encoded headers follow.
    #[must_use]
    pub fn with_kid(mut self, kid: String) -> Self {
        self.jwk = public_jwk::with_use(self.jwk, &kid, self.alg);
        self.headers = EncodedHeaders::new(self.alg, &kid);
        self.kid = kid;
        self
    }

    /// Sets when the key stops signing (a certificate's or vault key's expiry). It stays
    /// published for the retention period after that.
    #[must_use]
    pub fn with_expires(mut self, expires: Timestamp) -> Self {
        self.expires = Some(expires);
        self
    }

    /// When the key stops signing, if it has an expiry.
    pub fn expires(&self) -> Option<Timestamp> {
        self.expires
    }

    /// True if the private key is held elsewhere and signing is a remote call.
    pub fn is_remote(&self) -> bool {
        matches!(self.private, PrivateKey::Remote { .. })
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
            PrivateKey::Remote { signature_len, .. } => *signature_len,
        }
    }

    /// Signs `message`; ECDSA signatures come in the fixed `r || s` form JWS uses. A remote
    /// key sends the SHA-256 digest of `message` to its signer and checks the answer against
    /// its public key; a local one never awaits.
    pub async fn sign(&self, rng: &SystemRandom, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        if let PrivateKey::Remote { signer, .. } = &self.private {
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, message);
            let signature = signer.sign_digest(self.alg, digest.as_ref()).await?;
            // A network round trip dwarfs one local verification, and a remote key that is
            // not the published one must not issue tokens no validator can check.
            if !self.verify(message, &signature) {
                return Err(SigningError::Crypto(format!(
                    "the signature from {} does not verify against the published key {}",
                    signer.describe(),
                    self.kid
                )));
            }
            return Ok(signature);
        }
        self.sign_local(rng, message)
    }

    /// Signs `message` with a local key, synchronously; a remote key refuses.
    pub fn sign_local(&self, rng: &SystemRandom, message: &[u8]) -> Result<Vec<u8>, SigningError> {
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
            PrivateKey::Remote { .. } => Err(SigningError::Crypto(
                "a remote key cannot sign locally".to_owned(),
            )),
        }
    }

    /// True if `signature` is this key's signature over `message` with this key's algorithm.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.public.verify(message, signature).is_ok()
    }
}

fn rsa_verifier(alg: Algorithm, public_der: Vec<u8>) -> UnparsedPublicKey<Vec<u8>> {
    let verification: &'static dyn VerificationAlgorithm = match alg {
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        _ => &signature::RSA_PKCS1_2048_8192_SHA256,
    };
    UnparsedPublicKey::new(verification, public_der)
}

/// A base64url JWK member, decoded.
fn jwk_bytes(jwk: &serde_json::Value, name: &'static str) -> Result<Vec<u8>, KeyError> {
    use base64::Engine as _;
    let text = jwk
        .get(name)
        .and_then(serde_json::Value::as_str)
        .ok_or(KeyError::JwkMember(name))?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| KeyError::JwkMember(name))
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|&&byte| byte == 0).count();
    bytes.drain(..zeros);
    bytes
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
