//! Remote keys (a Key Vault key, an HSM): the ring sends the SHA-256 digest of the signing
//! input to a [`RemoteSigner`] and verifies with the public JWK it holds. The test signer holds
//! an aws-lc-rs key pair and signs the digest it is given (`sign_digest` with an imported
//! digest), never the message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

mod common;

use async_trait::async_trait;
use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa;
use aws_lc_rs::signature::{self, EcdsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::verify_with_jwks;
use serde_json::{Value, json};
use sigil_core::signing::{SigningError, TokenSigner};
use sigil_core::time::Timestamp;
use sigil_keys::{Algorithm, KeyError, KeyRing, KeySet, RemoteSigner, RotationPolicy, SigningKey};
use std::sync::{Arc, Mutex};

const REMOTE_ALGS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::PS256, Algorithm::ES256];

enum Pair {
    Rsa(rsa::KeyPair),
    Ec(EcdsaKeyPair),
}

/// Signs digests with a key pair it holds, as a vault would; records what it was sent.
struct TestSigner {
    pair: Pair,
    failure: Option<String>,
    digests: Mutex<Vec<(Algorithm, Vec<u8>)>>,
}

impl std::fmt::Debug for TestSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestSigner")
    }
}

impl TestSigner {
    /// A signer over the private key of `pem` (PKCS#8, as `SigningKey::generate` writes it).
    fn new(pem: &str) -> Self {
        let der = pem::parse(pem).unwrap().into_contents();
        let pair = match rsa::KeyPair::from_pkcs8(&der) {
            Ok(pair) => Pair::Rsa(pair),
            Err(_) => Pair::Ec(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                    .unwrap(),
            ),
        };
        Self {
            pair,
            failure: None,
            digests: Mutex::new(Vec::new()),
        }
    }

    fn failing(mut self, why: &str) -> Self {
        self.failure = Some(why.to_owned());
        self
    }

    fn calls(&self) -> Vec<(Algorithm, Vec<u8>)> {
        self.digests.lock().unwrap().clone()
    }
}

#[async_trait]
impl RemoteSigner for TestSigner {
    async fn sign_digest(&self, alg: Algorithm, digest: &[u8]) -> Result<Vec<u8>, SigningError> {
        self.digests.lock().unwrap().push((alg, digest.to_vec()));
        if let Some(why) = &self.failure {
            return Err(SigningError::Crypto(why.clone()));
        }
        let failed = |_| SigningError::Crypto("test signer failed".to_owned());
        let digest = Digest::import_less_safe(digest, &digest::SHA256).map_err(failed)?;
        match (&self.pair, alg) {
            (Pair::Rsa(pair), Algorithm::RS256 | Algorithm::PS256) => {
                let padding: &'static dyn signature::RsaEncoding = if alg == Algorithm::PS256 {
                    &signature::RSA_PSS_SHA256
                } else {
                    &signature::RSA_PKCS1_SHA256
                };
                let mut out = vec![0; pair.public_modulus_len()];
                pair.sign_digest(padding, &digest, &mut out)
                    .map_err(failed)?;
                Ok(out)
            }
            (Pair::Ec(pair), Algorithm::ES256) => {
                Ok(pair.sign_digest(&digest).map_err(failed)?.as_ref().to_vec())
            }
            _ => Err(SigningError::Crypto(format!("cannot sign {alg}"))),
        }
    }

    fn describe(&self) -> String {
        "https://vault.test/keys/signing".to_owned()
    }
}

/// A local key and a remote key over the same key material, with the remote key's signer.
fn remote_and_local(alg: Algorithm) -> (SigningKey, SigningKey, Arc<TestSigner>) {
    let (local, pem) = SigningKey::generate(alg).unwrap();
    let signer = Arc::new(TestSigner::new(&pem));
    let remote = SigningKey::remote(alg, local.public_jwk(), signer.clone()).unwrap();
    (remote, local, signer)
}

fn ring_of(key: SigningKey) -> KeyRing {
    let alg = key.alg();
    KeyRing::new(
        KeySet::new(vec![key.with_created(Timestamp(0))], Vec::new()),
        alg,
        RotationPolicy::default(),
    )
    .unwrap()
}

fn claims() -> Value {
    json!({ "iss": "https://sigil.test", "sub": "app", "exp": 4_000_000_000u64 })
}

/// Decodes `token` with jsonwebtoken, using only `ring`'s JWKS.
fn verify_independently(ring: &KeyRing, token: &str) -> Result<Value, String> {
    verify_with_jwks(ring, token, |validation| {
        validation.required_spec_claims.clear();
    })
}

#[tokio::test]
async fn remote_keys_sign_through_the_ring_and_verify_with_the_ring_and_an_independent_library() {
    for alg in REMOTE_ALGS {
        let (remote, local, signer) = remote_and_local(alg);
        assert!(remote.is_remote());
        assert_eq!(
            remote.kid(),
            local.kid(),
            "{alg}: the kid is the key's thumbprint"
        );
        assert_eq!(remote.public_jwk(), local.public_jwk());
        assert_eq!(remote.signature_len(), local.signature_len());
        let ring = ring_of(remote);

        let token = ring
            .sign("at+jwt", claims().to_string().as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(format!("{:?}", header.alg), alg.as_str());
        assert_eq!(header.kid.as_deref(), Some(local.kid()));
        assert_eq!(
            Value::Object(ring.verify(&token).unwrap().claims),
            claims(),
            "{alg}"
        );
        assert_eq!(
            verify_independently(&ring, &token).unwrap_or_else(|e| panic!("{alg}: {e}")),
            claims()
        );

        // Only the digest of the signing input left for the signer, once.
        let (signing_input, signature) = token.rsplit_once('.').unwrap();
        let expected = digest::digest(&digest::SHA256, signing_input.as_bytes());
        assert_eq!(signer.calls(), [(alg, expected.as_ref().to_vec())], "{alg}");
        // The same key held locally accepts the remote signature.
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        assert!(local.verify(signing_input.as_bytes(), &signature), "{alg}");
    }
}

#[tokio::test]
async fn a_remote_signer_error_surfaces_as_a_signing_error() {
    for alg in REMOTE_ALGS {
        let (local, pem) = SigningKey::generate(alg).unwrap();
        let signer = Arc::new(TestSigner::new(&pem).failing("vault answered 403 Forbidden"));
        let remote = SigningKey::remote(alg, local.public_jwk(), signer.clone()).unwrap();
        let ring = ring_of(remote);
        let error = ring.sign("at+jwt", b"{}").await.unwrap_err();
        assert!(
            matches!(&error, SigningError::Crypto(why) if why.contains("403 Forbidden")),
            "{alg}: {error:?}"
        );
        assert_eq!(signer.calls().len(), 1);
    }
}

#[tokio::test]
async fn a_remote_key_is_never_asked_to_sign_locally() {
    for alg in REMOTE_ALGS {
        let (remote, _, signer) = remote_and_local(alg);
        let error = remote
            .sign_local(&SystemRandom::new(), b"header.payload")
            .unwrap_err();
        assert!(matches!(error, SigningError::Crypto(_)), "{alg}: {error:?}");
        assert!(signer.calls().is_empty(), "refused without calling out");

        // Signing through the key (as the ring does) goes to the signer.
        let signature = remote
            .sign(&SystemRandom::new(), b"header.payload")
            .await
            .unwrap();
        assert!(remote.verify(b"header.payload", &signature));
        assert_eq!(signer.calls().len(), 1);
    }
}

/// A vault key that is not the one published (a misconfigured key name or version) must not
/// issue tokens no validator can check: the signature is verified before the token leaves.
#[tokio::test]
async fn a_remote_signer_holding_another_key_issues_no_token() {
    let (local, _) = SigningKey::generate(Algorithm::ES256).unwrap();
    let (_, other_pem) = SigningKey::generate(Algorithm::ES256).unwrap();
    let signer = Arc::new(TestSigner::new(&other_pem));
    let ring = ring_of(SigningKey::remote(Algorithm::ES256, local.public_jwk(), signer).unwrap());
    let error = ring.sign("at+jwt", b"{}").await.unwrap_err();
    assert!(error.to_string().contains("does not verify"), "{error}");
}

#[test]
fn key_vault_hsm_key_types_are_accepted_and_published_as_plain_jwks() {
    for (alg, hsm) in [(Algorithm::RS256, "RSA-HSM"), (Algorithm::ES256, "EC-HSM")] {
        let (local, pem) = SigningKey::generate(alg).unwrap();
        let mut jwk = local.public_jwk().clone();
        jwk["kty"] = json!(hsm);
        jwk["key_ops"] = json!(["sign", "verify"]);
        let remote = SigningKey::remote(alg, &jwk, Arc::new(TestSigner::new(&pem))).unwrap();
        assert_eq!(remote.kid(), local.kid());
        assert_eq!(remote.public_jwk(), local.public_jwk(), "{hsm}");
    }
}

#[test]
fn remote_keys_with_mismatched_weak_or_incomplete_public_keys_are_refused() {
    let (rsa, rsa_pem) = SigningKey::generate(Algorithm::RS256).unwrap();
    let (ec, _) = SigningKey::generate(Algorithm::ES256).unwrap();
    let (ed, _) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    let signer = || -> Arc<dyn RemoteSigner> { Arc::new(TestSigner::new(&rsa_pem)) };
    let remote = |alg, jwk: &Value| SigningKey::remote(alg, jwk, signer()).unwrap_err();

    for (alg, jwk) in [
        (Algorithm::EdDSA, ed.public_jwk()),
        (Algorithm::EdDSA, rsa.public_jwk()),
        (Algorithm::ES256, rsa.public_jwk()),
        (Algorithm::RS256, ec.public_jwk()),
        (Algorithm::PS256, ec.public_jwk()),
        (Algorithm::ES256, ed.public_jwk()),
    ] {
        let error = remote(alg, jwk);
        assert!(
            matches!(error, KeyError::Mismatch { .. }),
            "{alg}: {error:?}"
        );
    }

    let weak = json!({ "kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xc5; 128]), "e": "AQAB" });
    assert!(matches!(
        remote(Algorithm::RS256, &weak),
        KeyError::WeakRsaKey
    ));
    // Leading zero bytes do not count towards the modulus length.
    let padded = [&[0u8; 128][..], &[0xc5; 128]].concat();
    let padded = json!({ "kty": "RSA", "n": URL_SAFE_NO_PAD.encode(padded), "e": "AQAB" });
    assert!(matches!(
        remote(Algorithm::PS256, &padded),
        KeyError::WeakRsaKey
    ));

    let mut p384 = ec.public_jwk().clone();
    p384["crv"] = json!("P-384");
    assert!(matches!(
        remote(Algorithm::ES256, &p384),
        KeyError::UnsupportedKeyType
    ));
    let mut no_kty = ec.public_jwk().clone();
    no_kty.as_object_mut().unwrap().remove("kty");
    assert!(matches!(
        remote(Algorithm::ES256, &no_kty),
        KeyError::UnsupportedKeyType
    ));
    for (alg, base, member) in [
        (Algorithm::RS256, rsa.public_jwk(), "n"),
        (Algorithm::RS256, rsa.public_jwk(), "e"),
        (Algorithm::ES256, ec.public_jwk(), "x"),
        (Algorithm::ES256, ec.public_jwk(), "y"),
    ] {
        let mut missing = base.clone();
        missing.as_object_mut().unwrap().remove(member);
        assert!(
            matches!(remote(alg, &missing), KeyError::JwkMember(name) if name == member),
            "{member}"
        );
        let mut garbled = base.clone();
        garbled[member] = json!("not base64url!");
        assert!(
            matches!(remote(alg, &garbled), KeyError::JwkMember(name) if name == member),
            "{member}"
        );
    }
}
