//! Test doubles for unit tests of the pure protocol logic: a signer whose "signature" is a
//! keyed digest, a catalog, and a grant store that refuses every call (the logic tested here
//! must not touch it). Everything that needs a store is tested on the real one (openraft over
//! sled) with a real key ring, in `tests/`.

use crate::handle::GrantKey;
use crate::model::{
    AccessTokenFormat, ApiResource, ApiScope, Catalog, Client, ResponseType,
    TokenEndpointAuthMethod,
};
use crate::secret::SecretHash;
use crate::signing::{Algorithm, SigningError, TokenSigner, VerifiedJwt, VerifyError};
use crate::store::{
    ConsumeOutcome, Grant, GrantStore, PutOutcome, RevokeTarget, RotateOutcome, Rotation,
    StoreError, Throttle, ThrottleOutcome,
};
use crate::time::Timestamp;
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// A grant store that refuses every call: for unit tests of logic that must not touch the
/// store (a password check, minting a JWT). It stores nothing, so it has no behaviour to
/// drift from the real store's; what needs a store is tested on the real one in `tests/`.
pub(crate) struct NoStore;

#[async_trait]
impl GrantStore for NoStore {
    async fn put(&self, _: Grant) -> Result<PutOutcome, StoreError> {
        Err(NoStore::refused())
    }
    async fn get(&self, _: &GrantKey) -> Result<Option<Grant>, StoreError> {
        Err(NoStore::refused())
    }
    async fn consume(&self, _: &GrantKey) -> Result<ConsumeOutcome, StoreError> {
        Err(NoStore::refused())
    }
    async fn revoke(&self, _: RevokeTarget) -> Result<u64, StoreError> {
        Err(NoStore::refused())
    }
    async fn rotate(&self, _: Rotation) -> Result<RotateOutcome, StoreError> {
        Err(NoStore::refused())
    }
    async fn list_by_subject(&self, _: &str) -> Result<Vec<Grant>, StoreError> {
        Err(NoStore::refused())
    }
    async fn throttle(&self, _: Throttle) -> Result<ThrottleOutcome, StoreError> {
        Err(NoStore::refused())
    }
}

impl NoStore {
    fn refused() -> StoreError {
        StoreError::internal("a unit test has no grant store")
    }
}

/// "Signs" with SHA-256 over a fixed secret and the signing input: enough to tell our tokens
/// from tampered ones in protocol tests. The header names the algorithm asked for; access
/// tokens are "ES256".
pub(crate) struct DigestSigner;

impl DigestSigner {
    fn mac(input: &str) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(format!("test-key:{input}")))
    }
}

#[async_trait::async_trait]
impl TokenSigner for DigestSigner {
    async fn sign_with(
        &self,
        alg: Algorithm,
        typ: &str,
        claims_json: &[u8],
    ) -> Result<String, SigningError> {
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"{typ}"}}"#));
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims_json));
        let mac = Self::mac(&input);
        Ok(format!("{input}.{mac}"))
    }
    fn access_token_algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }
    fn verify(&self, token: &str) -> Result<VerifiedJwt, VerifyError> {
        let (input, mac) = token.rsplit_once('.').ok_or(VerifyError::Malformed)?;
        if Self::mac(input) != mac {
            return Err(VerifyError::BadSignature);
        }
        let (header, claims) = input.split_once('.').ok_or(VerifyError::Malformed)?;
        let decode = |part: &str| -> Result<serde_json::Value, VerifyError> {
            let bytes = URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| VerifyError::Malformed)?;
            serde_json::from_slice(&bytes).map_err(|_| VerifyError::Malformed)
        };
        let typ = decode(header)?
            .get("typ")
            .and_then(|t| t.as_str())
            .map(str::to_owned);
        match decode(claims)? {
            serde_json::Value::Object(claims) => Ok(VerifiedJwt { typ, claims }),
            _ => Err(VerifyError::Malformed),
        }
    }
}

pub(crate) const SECRET: &str = "s3cret";
pub(crate) const NOW: Timestamp = Timestamp(1_800_000_000);

pub(crate) fn client(id: &str, format: AccessTokenFormat) -> Client {
    Client {
        client_id: id.into(),
        auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        secrets: vec![SecretHash::sha256_of(SECRET)],
        jwks: vec![],
        grant_types: vec!["client_credentials".into()],
        scopes: vec!["orders.read".into()],
        access_token_format: format,
        access_token_lifetime: Duration::from_secs(300),
        sign_in: Default::default(),
    }
}

/// The catalog authorization requests are validated against: the client `web` (redirect
/// URIs `https://app.test/cb` and `http://127.0.0.1:4000/cb`, response types `code` and
/// `code id_token`) and the API `https://orders` (scope `orders.read`).
pub(crate) fn catalog() -> Catalog {
    let mut web = client("web", AccessTokenFormat::Jwt);
    web.grant_types = vec!["authorization_code".into(), "refresh_token".into()];
    web.scopes = vec!["openid".into(), "profile".into(), "orders.read".into()];
    web.sign_in.redirect_uris = vec![
        "https://app.test/cb".into(),
        "http://127.0.0.1:4000/cb".into(),
    ];
    web.sign_in.response_types = vec![ResponseType::Code, ResponseType::CodeIdToken];
    Catalog::new(
        vec![web],
        vec![ApiScope {
            name: "orders.read".into(),
            description: None,
        }],
        vec![ApiResource {
            identifier: "https://orders".into(),
            scopes: vec!["orders.read".into()],
            introspection_secrets: vec![SecretHash::sha256_of(SECRET)],
        }],
    )
}

/// HTTP Basic as RFC 6749 §2.3.1 has clients send it: id and secret form-encoded first.
pub(crate) fn basic(id: &str, secret: &str) -> String {
    let encode =
        |value: &str| form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", encode(id), encode(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}
