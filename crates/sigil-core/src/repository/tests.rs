//! The repositories: payloads read and written in the encoding earlier releases used, kind
//! checks, and handle collisions.

use super::consents::ConsentPayload;
use super::*;
use crate::authorize::Session;
use crate::authorize::pkce::{ChallengeMethod, CodeChallenge};
use crate::error::ErrorCode;
use crate::handle::{FamilyId, GrantKey};
use crate::scope::ScopeSet;
use crate::store::{
    ConsumeOutcome, Grant, GrantKind, GrantStore, PutOutcome, RevokeTarget, RotateOutcome,
    Rotation, StoreError, Throttle, ThrottleOutcome,
};
use crate::testing::{MemoryStore, NOW};
use crate::time::Timestamp;
use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

fn set(scopes: &str) -> ScopeSet {
    ScopeSet::parse(scopes).unwrap()
}

/// Decodes `stored` (bytes as an earlier release wrote them) into `expected`, and encodes
/// `expected` back into exactly those bytes.
fn same_bytes<P>(stored: &str, expected: &P)
where
    P: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let decoded: P = serde_json::from_str(stored).unwrap();
    assert_eq!(&decoded, expected);
    assert_eq!(serde_json::to_string(expected).unwrap(), stored);
}

fn code_payload() -> CodePayload {
    CodePayload {
        redirect_uri: "https://app.test/cb".into(),
        scopes: set("openid orders.read"),
        audiences: vec!["https://orders".into()],
        nonce: Some("n-1".into()),
        code_challenge: Some(CodeChallenge {
            challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            method: ChallengeMethod::S256,
        }),
        auth_time: NOW,
        amr: vec!["pwd".into()],
        sid: "sid-1".into(),
    }
}

fn refresh_payload() -> RefreshPayload {
    RefreshPayload {
        scopes: set("openid offline_access"),
        audiences: vec!["https://orders".into()],
        auth_time: NOW,
        amr: vec!["pwd".into()],
        sid: "sid-1".into(),
        absolute_expiry: Timestamp(NOW.0 + 86_400),
        handoff: Some("sealed".into()),
    }
}

#[test]
fn payloads_keep_the_encoding_earlier_releases_wrote() {
    same_bytes(
        r#"{"redirect_uri":"https://app.test/cb","scopes":["openid","orders.read"],"audiences":["https://orders"],"nonce":"n-1","code_challenge":{"challenge":"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM","method":"S256"},"auth_time":1800000000,"amr":["pwd"],"sid":"sid-1"}"#,
        &code_payload(),
    );
    same_bytes(
        r#"{"scopes":["openid","offline_access"],"audiences":["https://orders"],"auth_time":1800000000,"amr":["pwd"],"sid":"sid-1","absolute_expiry":1800086400,"handoff":"sealed"}"#,
        &refresh_payload(),
    );
    same_bytes(
        r#"{"scopes":["openid","orders.read"]}"#,
        &ConsentPayload {
            scopes: set("openid orders.read"),
        },
    );
    same_bytes(
        r#"{"jti":"j-1","scopes":["orders.read"],"audiences":["https://orders"]}"#,
        &ReferenceTokenPayload {
            jti: "j-1".into(),
            scopes: set("orders.read"),
            audiences: vec!["https://orders".into()],
        },
    );
}

/// A grant of `kind` under `key`, with an empty payload.
fn foreign(key: GrantKey, kind: GrantKind) -> Grant {
    Grant {
        key,
        kind,
        client_id: "web".into(),
        subject: Some("alice-id".into()),
        family: None,
        issued_at: NOW,
        expires_at: Timestamp(NOW.0 + 60),
        consumed_at: None,
        payload: Vec::new(),
    }
}

fn session() -> Session {
    Session {
        sid: "sid-1".into(),
        subject: "alice-id".into(),
        auth_time: NOW,
        amr: vec!["pwd".into()],
        expires_at: Timestamp(NOW.0 + 3600),
    }
}

#[tokio::test]
async fn a_code_is_filed_redeemed_once_and_then_replayed() {
    let store = Arc::new(MemoryStore::default());
    let codes = AuthorizationCodes::new(store.clone());
    let expires_at = Timestamp(NOW.0 + 60);
    let code = codes
        .file("web", "alice-id", &code_payload(), NOW, expires_at)
        .await
        .unwrap();
    let Redemption::Redeemed(first) = codes.redeem(&code).await.unwrap() else {
        panic!("the first redemption consumes the code");
    };
    assert_eq!(first.client_id, "web");
    assert_eq!(first.subject.as_deref(), Some("alice-id"));
    assert_eq!(first.expires_at, expires_at);
    assert!(first.family.is_some(), "a code starts a family");
    assert_eq!(first.payload().unwrap(), code_payload());
    assert!(matches!(
        codes.redeem(&code).await.unwrap(),
        Redemption::Replayed(_)
    ));
    assert!(matches!(
        codes.redeem("never-issued").await.unwrap(),
        Redemption::NotFound
    ));
}

#[tokio::test]
async fn a_grant_of_another_kind_is_not_found() {
    let store = Arc::new(MemoryStore::default());
    let handle = "some-handle";
    let key = GrantKey::of_handle(handle);
    store
        .put(foreign(key, GrantKind::ReferenceToken))
        .await
        .unwrap();
    let codes = AuthorizationCodes::new(store.clone());
    assert!(matches!(
        codes.redeem(handle).await.unwrap(),
        Redemption::NotFound
    ));
    let refresh_tokens = RefreshTokens::new(store.clone());
    assert!(refresh_tokens.find(handle).await.unwrap().is_none());

    // A refresh token where a reference token is looked for, and the other way round.
    let refresh = test_refresh_grant(
        "refresh-handle",
        "web",
        "alice-id",
        &["openid"],
        NOW,
        Timestamp(NOW.0 + 60),
        Timestamp(NOW.0 + 60),
    );
    store.put(refresh).await.unwrap();
    assert!(matches!(
        find_handle(store.as_ref(), "refresh-handle").await.unwrap(),
        Some(FoundHandle::Refresh(_))
    ));
    assert!(matches!(
        find_handle(store.as_ref(), handle).await.unwrap(),
        Some(FoundHandle::Reference(_))
    ));
    store
        .put(foreign(
            GrantKey::of_handle("a-session"),
            GrantKind::Session,
        ))
        .await
        .unwrap();
    assert!(
        find_handle(store.as_ref(), "a-session")
            .await
            .unwrap()
            .is_none()
    );

    // Markers, sessions and consents under keys derived the way each repository derives them.
    let session = session();
    store
        .put(foreign(session.key(), GrantKind::Consent))
        .await
        .unwrap();
    assert!(
        !Sessions::new(store.clone())
            .is_live(&session)
            .await
            .unwrap()
    );
    store
        .put(foreign(
            GrantKey::derived("revoked_jwt", &["j-1"]),
            GrantKind::Session,
        ))
        .await
        .unwrap();
    assert!(
        !RevokedJwts::new(store.clone())
            .is_revoked("j-1")
            .await
            .unwrap()
    );
    store
        .put(foreign(
            GrantKey::derived("consent", &["alice-id", "web"]),
            GrantKind::Session,
        ))
        .await
        .unwrap();
    let consents = Consents::new(store.clone());
    assert!(
        consents
            .remembered("alice-id", "web")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn sessions_markers_and_consents_round_trip() {
    let store = Arc::new(MemoryStore::default());
    let sessions = Sessions::new(store.clone());
    let session = session();
    assert!(!sessions.is_live(&session).await.unwrap());
    sessions.start(&session).await.unwrap();
    assert!(sessions.is_live(&session).await.unwrap());
    sessions.end(&session).await.unwrap();
    assert!(!sessions.is_live(&session).await.unwrap());

    let revoked = RevokedJwts::new(store.clone());
    let expiry = Timestamp(NOW.0 + 60);
    assert!(!revoked.is_revoked("j-1").await.unwrap());
    revoked.revoke("j-1", "web", NOW, expiry).await.unwrap();
    revoked.revoke("j-1", "web", NOW, expiry).await.unwrap();
    assert!(revoked.is_revoked("j-1").await.unwrap());
    assert!(!revoked.is_revoked("j-2").await.unwrap());

    let assertions = ClientAssertions::new(store.as_ref());
    assert!(
        assertions
            .record_once("app", "a-1", NOW, expiry)
            .await
            .unwrap()
    );
    assert!(
        !assertions
            .record_once("app", "a-1", NOW, expiry)
            .await
            .unwrap()
    );
    assert!(
        assertions
            .record_once("other", "a-1", NOW, expiry)
            .await
            .unwrap()
    );

    let consents = Consents::new(store.clone());
    let lifetime = Duration::from_secs(3600);
    consents
        .remember("alice-id", "web", &set("openid"), lifetime, NOW)
        .await
        .unwrap();
    consents
        .remember("alice-id", "web", &set("orders.read openid"), lifetime, NOW)
        .await
        .unwrap();
    assert_eq!(
        consents.remembered("alice-id", "web").await.unwrap(),
        set("openid orders.read")
    );
    assert!(
        consents
            .remembered("alice-id", "spa")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_refresh_token_is_filed_and_found_and_its_family_revoked() {
    let store = Arc::new(MemoryStore::default());
    let refresh_tokens = RefreshTokens::new(store.clone());
    let payload = refresh_payload();
    let handle = refresh_tokens
        .file(NewRefreshToken {
            client_id: "web",
            subject: "alice-id",
            family: None,
            issued_at: NOW,
            expires_at: Timestamp(NOW.0 + 600),
            payload: &payload,
        })
        .await
        .unwrap();
    let found = refresh_tokens.find(&handle).await.unwrap().unwrap();
    assert_eq!(found.payload().unwrap(), payload);
    let live = found.live(NOW).unwrap();
    assert_eq!(live.expires_at, Timestamp(NOW.0 + 600));
    assert!(found.live(Timestamp(NOW.0 + 600)).is_none(), "expired");
    assert_eq!(refresh_tokens.revoke_family(&found).await.unwrap(), 1);
    assert!(refresh_tokens.find(&handle).await.unwrap().is_none());
}

/// A store where every fresh key is taken and every rotation finds its successor's key
/// taken: what a handle collision looks like.
struct Colliding;

#[async_trait]
impl GrantStore for Colliding {
    async fn put(&self, _: Grant) -> Result<PutOutcome, StoreError> {
        Ok(PutOutcome::AlreadyExists)
    }
    async fn get(&self, _: &GrantKey) -> Result<Option<Grant>, StoreError> {
        Ok(None)
    }
    async fn consume(&self, _: &GrantKey) -> Result<ConsumeOutcome, StoreError> {
        Ok(ConsumeOutcome::NotFound)
    }
    async fn revoke(&self, _: RevokeTarget) -> Result<u64, StoreError> {
        Ok(0)
    }
    async fn rotate(&self, _: Rotation) -> Result<RotateOutcome, StoreError> {
        Ok(RotateOutcome::SuccessorExists)
    }
    async fn list_by_subject(&self, _: &str) -> Result<Vec<Grant>, StoreError> {
        Ok(Vec::new())
    }
    async fn throttle(&self, _: Throttle) -> Result<ThrottleOutcome, StoreError> {
        Err(StoreError::internal("not used"))
    }
}

fn collided<T: Debug>(result: Result<T, RepositoryError>, kind: GrantKind) {
    match result {
        Err(error @ RepositoryError::HandleCollision { kind: collided }) => {
            assert_eq!(collided, kind);
            let error: crate::error::ProtocolError = error.into();
            assert_eq!(error.code, ErrorCode::ServerError);
        }
        other => panic!("expected a {kind:?} collision, got {other:?}"),
    }
}

#[tokio::test]
async fn a_handle_collision_is_one_error_and_a_server_error() {
    let store: Arc<dyn GrantStore> = Arc::new(Colliding);
    let expires_at = Timestamp(NOW.0 + 60);
    let codes = AuthorizationCodes::new(store.clone());
    collided(
        codes
            .file("web", "alice-id", &code_payload(), NOW, expires_at)
            .await,
        GrantKind::AuthorizationCode,
    );
    let payload = refresh_payload();
    let refresh = NewRefreshToken {
        client_id: "web",
        subject: "alice-id",
        family: Some(FamilyId::new_random()),
        issued_at: NOW,
        expires_at,
        payload: &payload,
    };
    let refresh_tokens = RefreshTokens::new(store.clone());
    collided(refresh_tokens.file(refresh).await, GrantKind::RefreshToken);
    collided(
        refresh_tokens
            .rotate("presented", "successor", refresh, Duration::ZERO)
            .await,
        GrantKind::RefreshToken,
    );
    let reference = ReferenceTokenPayload {
        jti: "j-1".into(),
        scopes: set("orders.read"),
        audiences: vec![],
    };
    collided(
        ReferenceTokens::new(store.clone())
            .file(NewReferenceToken {
                client_id: "ref-app",
                subject: "ref-app",
                family: None,
                issued_at: NOW,
                expires_at,
                payload: &reference,
            })
            .await,
        GrantKind::ReferenceToken,
    );
    collided(
        Sessions::new(store.clone()).start(&session()).await,
        GrantKind::Session,
    );
}

#[tokio::test]
async fn an_unreadable_payload_is_an_error_once_read() {
    let store = Arc::new(MemoryStore::default());
    let mut grant = foreign(GrantKey::of_handle("bad"), GrantKind::RefreshToken);
    grant.payload = b"not json".to_vec();
    store.put(grant).await.unwrap();
    let found = RefreshTokens::new(store.clone())
        .find("bad")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.client_id, "web", "the grant's fields are readable");
    assert!(matches!(
        found.payload(),
        Err(RepositoryError::Unreadable {
            kind: GrantKind::RefreshToken,
            ..
        })
    ));
    assert!(
        found.live(NOW).is_none(),
        "an unreadable refresh token is not live"
    );
}
