//! Test doubles for unit tests of the protocol logic: a grant store in a mutex (put, get,
//! consume-once, revoke one grant, throttle; rotation and the other revocations are the real
//! store's) and a signer whose "signature" is a keyed digest. Integration tests use the real
//! store and key ring.

use crate::context::{ServiceSettings, SessionSettings};
use crate::endpoint::Services;
use crate::handle::GrantKey;
use crate::model::{
    AccessTokenFormat, ApiResource, ApiScope, Catalog, Client, ResponseType,
    TokenEndpointAuthMethod, User, UserStore, UserStoreError, WebOrigin,
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
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Grants in a map, and the store's clock (which stamps throttle commands), set by tests.
pub(crate) struct MemoryStore(Mutex<HashMap<GrantKey, Grant>>, AtomicU64);

impl Default for MemoryStore {
    fn default() -> Self {
        Self(Mutex::default(), AtomicU64::new(NOW.0))
    }
}

impl MemoryStore {
    fn now(&self) -> Timestamp {
        Timestamp(self.1.load(Ordering::SeqCst))
    }

    /// Sets the store's clock.
    pub(crate) fn set_now(&self, now: Timestamp) {
        self.1.store(now.0, Ordering::SeqCst);
    }
}

#[async_trait]
impl GrantStore for MemoryStore {
    async fn put(&self, grant: Grant) -> Result<PutOutcome, StoreError> {
        let mut map = self
            .0
            .lock()
            .map_err(|_| StoreError::internal("poisoned"))?;
        if map.contains_key(&grant.key) {
            return Ok(PutOutcome::AlreadyExists);
        }
        map.insert(grant.key, grant);
        Ok(PutOutcome::Stored)
    }
    async fn get(&self, key: &GrantKey) -> Result<Option<Grant>, StoreError> {
        Ok(self
            .0
            .lock()
            .map_err(|_| StoreError::internal("poisoned"))?
            .get(key)
            .cloned())
    }
    async fn consume(&self, key: &GrantKey) -> Result<ConsumeOutcome, StoreError> {
        let mut map = self
            .0
            .lock()
            .map_err(|_| StoreError::internal("poisoned"))?;
        let now = self.now();
        let Some(grant) = map.get_mut(key) else {
            return Ok(ConsumeOutcome::NotFound);
        };
        if grant.consumed_at.is_some() {
            return Ok(ConsumeOutcome::AlreadyConsumed(grant.clone()));
        }
        grant.consumed_at = Some(now);
        Ok(ConsumeOutcome::Consumed(grant.clone()))
    }
    async fn revoke(&self, target: RevokeTarget) -> Result<u64, StoreError> {
        let mut map = self
            .0
            .lock()
            .map_err(|_| StoreError::internal("poisoned"))?;
        match target {
            RevokeTarget::Grant(key) => Ok(u64::from(map.remove(&key).is_some())),
            _ => Err(StoreError::internal("not used")),
        }
    }
    async fn rotate(&self, _: Rotation) -> Result<RotateOutcome, StoreError> {
        Err(StoreError::internal("not used"))
    }
    async fn list_by_subject(&self, _: &str) -> Result<Vec<Grant>, StoreError> {
        Err(StoreError::internal("not used"))
    }
    async fn throttle(&self, command: Throttle) -> Result<ThrottleOutcome, StoreError> {
        let mut map = self
            .0
            .lock()
            .map_err(|_| StoreError::internal("poisoned"))?;
        let now = self.now();
        let live = map.get(&command.key).filter(|g| !now.reached(g.expires_at));
        let (outcome, next) = command.apply(live, now);
        if let Some(next) = next {
            map.insert(command.key, next);
        }
        Ok(outcome)
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

/// One user, `alice` (subject `alice-id`), whose password is [`SECRET`]. The user name
/// [`BUSY_USER`] finds the password checks saturated.
pub(crate) struct OneUser;

/// A user name whose password [`OneUser`] cannot check right now.
pub(crate) const BUSY_USER: &str = "busy";

#[async_trait]
impl UserStore for OneUser {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Arc<User>>, UserStoreError> {
        if username == BUSY_USER {
            return Err(UserStoreError::Busy(crate::secret::CheckRefused::OwnerBusy));
        }
        if username == "alice" && password == SECRET {
            return self.find("alice-id").await;
        }
        Ok(None)
    }
    async fn find(&self, subject: &str) -> Result<Option<Arc<User>>, UserStoreError> {
        Ok((subject == "alice-id").then(|| {
            Arc::new(User {
                subject: "alice-id".into(),
                username: "alice".into(),
                claims: serde_json::Map::new(),
            })
        }))
    }
}

pub(crate) const SECRET: &str = "s3cret";
/// A grant type no built-in handler serves; the client `ext-app` may use it (and only it).
pub(crate) const EXTENSION_GRANT_TYPE: &str = "urn:example:params:oauth:grant-type:stamp";
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

/// The services, with clients `jwt-app`, `ref-app`, `other-app`, `web`, `ext-app` (allowed
/// only [`EXTENSION_GRANT_TYPE`]), the public client `spa`
/// and the API `https://orders` (introspection secret [`SECRET`]), and sign-in throttling off.
pub(crate) fn services() -> (Arc<MemoryStore>, Services) {
    services_with(crate::authorize::LoginThrottle::off())
}

/// [`services`] with sign-in throttling as given.
pub(crate) fn services_with(
    login_throttle: crate::authorize::LoginThrottle,
) -> (Arc<MemoryStore>, Services) {
    let store = Arc::new(MemoryStore::default());
    let mut web = client("web", AccessTokenFormat::Jwt);
    web.grant_types = vec!["authorization_code".into(), "refresh_token".into()];
    web.scopes = vec!["openid".into(), "profile".into(), "orders.read".into()];
    web.sign_in.redirect_uris = vec![
        "https://app.test/cb".into(),
        "http://127.0.0.1:4000/cb".into(),
    ];
    web.sign_in.response_types = vec![ResponseType::Code, ResponseType::CodeIdToken];
    let mut spa = client("spa", AccessTokenFormat::Jwt);
    spa.auth_method = TokenEndpointAuthMethod::None;
    spa.secrets.clear();
    let mut no_grants = client("no-grants", AccessTokenFormat::Jwt);
    no_grants.grant_types.clear();
    let mut extension_app = client("ext-app", AccessTokenFormat::Jwt);
    extension_app.grant_types = vec![EXTENSION_GRANT_TYPE.into()];
    let mut jwt_app = client("jwt-app", AccessTokenFormat::Jwt);
    // Also a browser app (CORS), for endpoint/browser_origin.rs.
    jwt_app.sign_in.allowed_cors_origins = vec![WebOrigin::parse("https://app.test").unwrap()];
    let catalog = Catalog::new(
        vec![
            jwt_app,
            client("ref-app", AccessTokenFormat::Reference),
            client("other-app", AccessTokenFormat::Reference),
            no_grants,
            web,
            spa,
            extension_app,
        ],
        vec![ApiScope {
            name: "orders.read".into(),
            description: None,
        }],
        vec![ApiResource {
            identifier: "https://orders".into(),
            scopes: vec!["orders.read".into()],
            introspection_secrets: vec![SecretHash::sha256_of(SECRET)],
        }],
    );
    let services = Services::new(ServiceSettings {
        issuer: "https://sigil.test".into(),
        assertion_audiences: vec![],
        catalog: Arc::new(catalog),
        store: store.clone(),
        signer: Arc::new(DigestSigner),
        users: Arc::new(OneUser),
        secret_checks: Arc::new(crate::secret::InlineChecks),
        sessions: SessionSettings {
            login_throttle,
            ..Default::default()
        },
    });
    (store, services)
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
