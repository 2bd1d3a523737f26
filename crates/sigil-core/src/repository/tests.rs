//! The repositories without a store: payloads read and written in the encoding earlier
//! releases used, unreadable payloads, kind checks on a stored grant, and handle collisions
//! (a store double that finds every key taken: the real store's random handles never
//! collide). Filing and finding grants in the real store is tested through the services in
//! `tests/handlers/grant_kinds.rs`.

use super::consents::ConsentPayload;
use super::record::Stored;
use super::*;
use crate::error::ErrorCode;
use crate::handle::{FamilyId, GrantKey};
use crate::model::Session;
use crate::pkce::{ChallengeMethod, CodeChallenge};
use crate::scope::ScopeSet;
use crate::store::{
    ConsumeOutcome, Grant, GrantKind, GrantStore, PutOutcome, RevokeTarget, RotateOutcome,
    Rotation, StoreError, Throttle, ThrottleOutcome,
};
use crate::testing::NOW;
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

#[test]
fn an_unreadable_payload_is_an_error_once_read() {
    let mut grant = foreign(GrantKey::of_handle("bad"), GrantKind::RefreshToken);
    grant.payload = b"not json".to_vec();
    let found = Stored::<RefreshPayload>::of_kind(grant, GrantKind::RefreshToken).unwrap();
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

#[test]
fn a_grant_of_another_kind_is_not_read_as_this_one() {
    let grant = foreign(GrantKey::of_handle("a-code"), GrantKind::AuthorizationCode);
    assert!(Stored::<RefreshPayload>::of_kind(grant, GrantKind::RefreshToken).is_none());
}
