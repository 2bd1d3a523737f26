//! The grant repositories as the services use them, on the real store: a code is redeemed
//! once; sessions, revocation markers, assertion markers and consents are filed and found; a
//! refresh token is found and its family revoked; and a grant of another kind under a key
//! is never taken for the one looked for.
//!
//! (Encoding compatibility, unreadable payloads and handle collisions, which need no store,
//! are unit tests next to the repositories.)

use crate::support::*;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sigil_core::authorize::{AuthorizeError, AuthorizeStep, ConsentDecision};
use sigil_core::client_auth::AuthFailure;
use sigil_core::handle::GrantKey;
use sigil_core::model::Session;
use sigil_core::model::{ClientJwk, TokenEndpointAuthMethod};
use sigil_core::store::GrantKind;
use sigil_core::time::Timestamp;

#[tokio::test]
async fn a_code_is_redeemed_once_and_then_replayed() {
    let env = env().await;
    let code = code(&env, WEB, SIGN_IN_SCOPES).await;
    let first = redeem_ok(&env, &code).await;
    // What the code was filed with comes back: its client, user, scopes and sign-in.
    let id_token = jwt_claims(first.id_token.as_deref().unwrap());
    assert_eq!(id_token["aud"], WEB.id);
    assert_eq!(id_token["sub"], ALICE.subject);
    assert!(id_token["auth_time"].is_u64(), "{id_token}");
    assert!(id_token["sid"].is_string(), "{id_token}");
    assert_eq!(first.scope.as_deref(), Some(SIGN_IN_SCOPES));
    // A code starts a family: the refresh token it bought is live until the replay.
    let refresh_token = first.refresh_token.unwrap();
    assert!(is_active(&env, WEB, &refresh_token).await);
    assert_invalid_grant(redeem(&env, &code).await, "a replayed code");
    assert!(
        !is_active(&env, WEB, &refresh_token).await,
        "the replay revoked the family"
    );
    let never_issued = redeem_as(&env, WEB, "never-issued", code.verifier(), None).await;
    assert_invalid_grant(never_issued, "a code never issued");
}

/// A session alice never started, filed under `sid`'s key by nobody.
fn unstarted_session(env: &Env, sid: &str) -> Session {
    let now = env.now();
    Session {
        sid: sid.to_owned(),
        subject: ALICE.subject.to_owned(),
        auth_time: now,
        amr: vec!["pwd".to_owned()],
        expires_at: Timestamp(now.as_secs() + 3600),
    }
}

/// A request from `client` for `scope` (no PKCE, which `legacy` does not require).
fn request(client: TestClient, scope: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("client_id", client.id),
        ("redirect_uri", client.redirect_uri),
        ("response_type", "code"),
        ("scope", scope),
    ]
}

/// The environment where `legacy` and `portal` ask users for consent.
async fn env_with_consent() -> Env {
    env_with(|client| {
        if [LEGACY.id, PORTAL.id].contains(&client.client_id.as_str()) {
            client.sign_in.require_consent = true;
            client.sign_in.require_pkce = false;
        }
    })
    .await
}

fn is_login(step: &Result<AuthorizeStep, AuthorizeError>) -> bool {
    matches!(step, Ok(AuthorizeStep::Login(_)))
}

fn is_consent(step: &Result<AuthorizeStep, AuthorizeError>) -> bool {
    matches!(step, Ok(AuthorizeStep::Consent { .. }))
}

fn is_code(step: &Result<AuthorizeStep, AuthorizeError>) -> bool {
    matches!(step, Ok(AuthorizeStep::Respond(issued)) if issued.redirect.param("code").is_some())
}

#[tokio::test]
async fn a_grant_of_another_kind_is_not_found() {
    let env = env_with_consent().await;
    let now = env.now();
    // A reference access token presented as a code or as a refresh token.
    let reference = client_credentials(&env, MACHINE_REF, &[]).await.unwrap();
    let handle = reference.access_token;
    let as_code = redeem_as(&env, WEB, &handle, Some("x"), Some(WEB.redirect_uri)).await;
    assert_invalid_grant(as_code, "a reference token as a code");
    assert_invalid_grant(
        refresh(&env, WEB, &handle, None).await,
        "a reference token as a refresh token",
    );
    assert!(is_active(&env, MACHINE_REF, &handle).await, "still live");

    // Introspection finds a refresh token and a reference token each as what it is...
    let refresh_token = refresh_token(&env, WEB).await;
    let found = introspect(&env, WEB, &refresh_token).await;
    assert!(found.active && found.token_type.is_none(), "{found:?}");
    let found = introspect(&env, MACHINE_REF, &handle).await;
    assert_eq!(found.token_type, Some("Bearer"), "{found:?}");
    // ...and a session filed under a handle's key as nothing.
    let later = now.as_secs() + 3600;
    let refresh_payload = format!(
        r#"{{"scopes":["openid"],"audiences":[],"auth_time":{},"amr":["pwd"],"sid":"s","absolute_expiry":{later},"handoff":null}}"#,
        now.as_secs()
    );
    let key = GrantKey::of_handle("a-session");
    file_foreign(&env, key, GrantKind::Session, refresh_payload.as_bytes()).await;
    assert!(!is_active(&env, WEB, "a-session").await);

    // Sessions, markers and consents under the keys each repository derives.
    let session = unstarted_session(&env, "sid-1");
    let session_key = GrantKey::derived("session", &[session.sid.as_str()]);
    file_foreign(&env, session_key, GrantKind::Consent, b"{}").await;
    let step = authorize(&env, &request(LEGACY, "openid"), Some(&session), now).await;
    assert!(is_login(&step), "a consent is no session: {step:?}");

    let machine = client_credentials(&env, MACHINE, &[]).await.unwrap();
    let jti = jwt_claims(&machine.access_token)["jti"]
        .as_str()
        .unwrap()
        .to_owned();
    let marker = GrantKey::derived("revoked_jwt", &[&jti]);
    file_foreign(&env, marker, GrantKind::Session, b"{}").await;
    assert!(
        is_active(&env, MACHINE, &machine.access_token).await,
        "a session is no revocation marker"
    );

    let consent_key = GrantKey::derived("consent", &[ALICE.subject, LEGACY.id]);
    let consent_payload = br#"{"scopes":["openid"]}"#;
    file_foreign(&env, consent_key, GrantKind::Session, consent_payload).await;
    let alice = session_at(&env, &ALICE, now).await;
    let step = authorize(&env, &request(LEGACY, "openid"), Some(&alice), now).await;
    assert!(is_consent(&step), "a session is no consent: {step:?}");
}

#[tokio::test]
async fn sessions_markers_and_consents_round_trip() {
    let env = env_with_consent().await;
    let now = env.now();
    // A session is live from the sign-in to its end.
    let signed_in = request(LEGACY, "openid");
    let never_started = unstarted_session(&env, "sid-never");
    let step = authorize(&env, &signed_in, Some(&never_started), now).await;
    assert!(is_login(&step), "{step:?}");
    let session = session_at(&env, &ALICE, now).await;
    let step = authorize(&env, &signed_in, Some(&session), now).await;
    assert!(is_consent(&step), "{step:?}");
    end_session(&env, &session).await;
    let step = authorize(&env, &signed_in, Some(&session), now).await;
    assert!(is_login(&step), "{step:?}");

    // A revoked JWT access token stays revoked, revoked twice; another is untouched.
    let first = client_credentials(&env, MACHINE, &[]).await.unwrap();
    let second = client_credentials(&env, MACHINE, &[]).await.unwrap();
    let owner = basic(MACHINE.id, SECRET);
    let body = format!("token={}", first.access_token);
    for _ in 0..2 {
        let revoked = revoke_request(&env, Some(&owner), None, &body, now).await;
        assert!(revoked.is_ok(), "{revoked:?}");
    }
    assert!(!is_active(&env, MACHINE, &first.access_token).await);
    assert!(is_active(&env, MACHINE, &second.access_token).await);

    // Consents add up: a second consent to more scopes keeps the first.
    let session = session_at(&env, &ALICE, now).await;
    for scope in ["openid", "orders.read openid"] {
        let step = authorize(&env, &request(LEGACY, scope), Some(&session), now).await;
        let Ok(AuthorizeStep::Consent { request, .. }) = step else {
            panic!("{scope}: expected the consent page, got {step:?}");
        };
        let allow = ConsentDecision::Allow { remember: true };
        let step = consent(&env, request, Some(&session), allow, now).await;
        assert!(is_code(&step), "{scope}: {step:?}");
    }
    for scope in ["openid orders.read", "orders.read", "openid"] {
        let step = authorize(&env, &request(LEGACY, scope), Some(&session), now).await;
        assert!(is_code(&step), "remembered {scope}: {step:?}");
    }
    // Remembered for that client only.
    let step = authorize(&env, &request(PORTAL, "openid"), Some(&session), now).await;
    assert!(is_consent(&step), "{step:?}");
}

/// A private_key_jwt client's Ed25519 key (RFC 8037).
struct EdKey(Ed25519KeyPair);

impl EdKey {
    fn generate() -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        Self(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap())
    }

    fn jwk(&self) -> ClientJwk {
        let value = serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "kid": "ed",
            "x": URL_SAFE_NO_PAD.encode(self.0.public_key().as_ref()),
        });
        let parsed: jsonwebtoken::jwk::Jwk = serde_json::from_value(value).unwrap();
        ClientJwk::from_jwk(&parsed).unwrap()
    }

    /// A client assertion (RFC 7523) by `client_id` with `jti`, for a minute from `now`.
    fn assertion(&self, client_id: &str, jti: &str, now: Timestamp) -> String {
        let header = serde_json::json!({ "alg": "Ed25519", "kid": "ed", "typ": "JWT" });
        let claims = serde_json::json!({
            "iss": client_id, "sub": client_id, "aud": ISSUER,
            "iat": now.as_secs(), "exp": now.as_secs() + 60, "jti": jti,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.0.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

#[tokio::test]
async fn a_client_assertion_is_accepted_once_per_client() {
    let key = EdKey::generate();
    let jwk = key.jwk();
    let env = env_with(|client| {
        if [MACHINE_REF.id, BILLING_ONLY.id].contains(&client.client_id.as_str()) {
            client.auth_method = TokenEndpointAuthMethod::PrivateKeyJwt;
            client.secrets.clear();
            client.jwks = vec![jwk.clone()];
        }
    })
    .await;
    let now = env.now();
    let body = |client: TestClient| {
        let assertion = key.assertion(client.id, "a-1", now);
        format!(
            "grant_type=client_credentials&client_assertion_type=\
             urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer\
             &client_assertion={assertion}"
        )
    };
    let first = token_request(&env, None, None, &body(MACHINE_REF), now).await;
    assert!(first.is_ok(), "{:?}", first.err());
    let replayed = token_request(&env, None, None, &body(MACHINE_REF), now)
        .await
        .unwrap_err();
    assert_eq!(replayed.auth_failure, Some(AuthFailure::ReplayedAssertion));
    let other_client = token_request(&env, None, None, &body(BILLING_ONLY), now).await;
    assert!(other_client.is_ok(), "{:?}", other_client.err());
}

#[tokio::test]
async fn a_refresh_token_is_found_and_its_family_revoked() {
    let env = env_with(|client| {
        if client.client_id == WEB.id {
            client.sign_in.refresh.sliding_lifetime = std::time::Duration::from_secs(600);
        }
    })
    .await;
    let tokens = signed_in_tokens(&env, WEB).await;
    let first_sign_in = tokens.refresh_token.unwrap();
    // What it was filed with comes back on use.
    let found = introspect(&env, WEB, &first_sign_in).await;
    assert!(found.active);
    assert_eq!(found.scope.as_deref(), Some(SIGN_IN_SCOPES));
    let issued_at = found.iat.unwrap();
    assert_eq!(found.exp, Some(issued_at + 600));
    // Expired as the core sees it at its sliding lifetime.
    let at_expiry = Timestamp(issued_at + 600);
    let body = format!("token={first_sign_in}");
    let owner = basic(WEB.id, SECRET);
    let expired = introspect_request(&env, Some(&owner), &body, at_expiry)
        .await
        .unwrap();
    assert!(!expired.response.active, "past its sliding lifetime");
    // Revoking it revokes its family, and only that: another sign-in's stays live.
    let other_sign_in = refresh_token(&env, WEB).await;
    let revoked = revoke_request(&env, Some(&owner), None, &body, env.now())
        .await
        .unwrap();
    assert!(revoked.revoked);
    assert!(!is_active(&env, WEB, &first_sign_in).await);
    assert!(is_active(&env, WEB, &other_sign_in).await);
    assert_invalid_grant(
        refresh(&env, WEB, &first_sign_in, None).await,
        "a revoked refresh token",
    );
}
