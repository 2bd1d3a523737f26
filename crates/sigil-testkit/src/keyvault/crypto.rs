//! Key material the double holds: generation, the public JWK Key Vault returns, a
//! self-signed certificate for certificate versions, and the `sign` operation over a digest.

use super::KeyKind;
use anyhow::Context as _;
use aws_lc_rs::digest::{Digest, SHA256};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rcgen::{CertificateParams, DnType, KeyPair};
use rustls::pki_types::PrivatePkcs8KeyDer;
use serde_json::{Value, json};

/// One private key, parsed for signing.
pub(super) struct Material {
    pkcs8: Vec<u8>,
    signer: Signer,
    /// `kty` plus the public members (RSA `n`/`e`, EC `crv`/`x`/`y`), base64url.
    public_jwk: Value,
}

enum Signer {
    Rsa(aws_lc_rs::rsa::KeyPair),
    Ec(EcdsaKeyPair),
}

/// Why a `sign` request is refused: Key Vault's 400 `BadParameter`.
pub(super) struct BadSignRequest(pub(super) String);

impl Material {
    /// A fresh key of `kind`.
    pub(super) fn generate(kind: KeyKind) -> crate::Result<Self> {
        let alg = match kind {
            KeyKind::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
            KeyKind::EcP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        };
        let pkcs8 = KeyPair::generate_for(alg)
            .context("generating a key")?
            .serialize_der();
        let (signer, public_jwk) = match kind {
            KeyKind::Rsa2048 => {
                let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(&pkcs8)
                    .map_err(|e| anyhow::anyhow!("RSA key rejected: {e}"))?;
                let public = pair.public_key();
                let jwk = json!({
                    "kty": "RSA",
                    "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                    "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
                });
                (Signer::Rsa(pair), jwk)
            }
            KeyKind::EcP256 => {
                let pair =
                    EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                        .map_err(|e| anyhow::anyhow!("P-256 key rejected: {e}"))?;
                let point = pair.public_key().as_ref();
                let (x, y) = point
                    .get(1..)
                    .and_then(|xy| xy.split_at_checked(32))
                    .context("unexpected P-256 point encoding")?;
                let jwk = json!({
                    "kty": "EC",
                    "crv": "P-256",
                    "x": URL_SAFE_NO_PAD.encode(x),
                    "y": URL_SAFE_NO_PAD.encode(y),
                });
                (Signer::Ec(pair), jwk)
            }
        };
        Ok(Self {
            pkcs8,
            signer,
            public_jwk,
        })
    }

    /// The public JWK members (no `kid`, no `key_ops`).
    pub(super) fn public_jwk(&self) -> &Value {
        &self.public_jwk
    }

    /// The private key as PKCS#8 PEM (`PRIVATE KEY`), as Key Vault writes it into a PEM
    /// certificate's secret.
    pub(super) fn private_pem(&self) -> String {
        pem_block("PRIVATE KEY", &self.pkcs8)
    }

    /// A self-signed certificate for this key: `(DER, PEM)`.
    pub(super) fn self_signed(&self, subject: &str) -> crate::Result<(Vec<u8>, String)> {
        let alg = match self.signer {
            Signer::Rsa(_) => &rcgen::PKCS_RSA_SHA256,
            Signer::Ec(_) => &rcgen::PKCS_ECDSA_P256_SHA256,
        };
        let key =
            KeyPair::from_pkcs8_der_and_sign_algo(&PrivatePkcs8KeyDer::from(&self.pkcs8[..]), alg)?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, subject);
        let cert = params.self_signed(&key)?;
        Ok((cert.der().to_vec(), cert.pem()))
    }

    /// Signs a SHA-256 `digest` as Key Vault's `sign` does: RS256/PS256 on RSA keys, ES256
    /// (fixed `r||s`) on P-256 keys.
    pub(super) fn sign_digest(&self, alg: &str, digest: &[u8]) -> Result<Vec<u8>, BadSignRequest> {
        let digest = Digest::import_less_safe(digest, &SHA256).map_err(|_| {
            BadSignRequest(format!(
                "Invalid digest length {} for algorithm {alg}: SHA-256 digests are 32 bytes",
                digest.len()
            ))
        })?;
        let failed = |_| BadSignRequest("signing failed".into());
        match (&self.signer, alg) {
            (Signer::Rsa(pair), "RS256" | "PS256") => {
                let padding: &'static signature::RsaSignatureEncoding = if alg == "RS256" {
                    &signature::RSA_PKCS1_SHA256
                } else {
                    &signature::RSA_PSS_SHA256
                };
                let mut out = vec![0; pair.public_modulus_len()];
                pair.sign_digest(padding, &digest, &mut out)
                    .map_err(failed)?;
                Ok(out)
            }
            (Signer::Ec(pair), "ES256") => {
                Ok(pair.sign_digest(&digest).map_err(failed)?.as_ref().to_vec())
            }
            _ => Err(BadSignRequest(format!(
                "Algorithm {alg} is not supported for this key type"
            ))),
        }
    }
}

/// PEM with 64-column base64 lines.
pub(super) fn pem_block(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
