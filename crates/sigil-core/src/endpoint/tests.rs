//! Protocol-level tests of the endpoints, against the test doubles.

use crate::error::ErrorCode;
use crate::parameters::Parameters;
use crate::testing::{NOW, SECRET, basic, provider};
use crate::time::Timestamp;

/// A client-credentials token for `client`, which must succeed.
async fn issue(
    provider: &crate::endpoint::Provider,
    client: &str,
) -> crate::endpoint::TokenSuccess {
    provider
        .token(
            Some(&basic(client, SECRET)),
            None,
            &form("grant_type=client_credentials"),
            NOW,
        )
        .await
        .unwrap()
}

fn form(body: &str) -> Parameters {
    Parameters::parse(body.as_bytes(), &["resource"]).unwrap()
}

#[tokio::test]
async fn client_credentials_issues_a_token_the_client_can_introspect() {
    let (_, provider) = provider();
    let issued = issue(&provider, "jwt-app").await;
    assert_eq!(issued.response.scope.as_deref(), Some("orders.read"));
    let body = format!("token={}", issued.response.access_token);
    let answer = provider
        .introspect(Some(&basic("jwt-app", SECRET)), &form(&body), NOW)
        .await
        .unwrap();
    assert!(answer.response.active);
    assert_eq!(answer.response.sub.as_deref(), Some("jwt-app"));
}

#[tokio::test]
async fn authentication_failures_are_invalid_client_with_a_reason() {
    let (_, provider) = provider();
    let cases = [
        (
            Some(basic("jwt-app", "wrong")),
            "grant_type=client_credentials",
        ),
        (
            Some(basic("nobody", SECRET)),
            "grant_type=client_credentials",
        ),
        (
            None,
            "grant_type=client_credentials&client_id=jwt-app&client_secret=s3cret",
        ),
    ];
    for (header, body) in cases {
        let failure = provider
            .token(header.as_deref(), None, &form(body), NOW)
            .await
            .unwrap_err();
        assert_eq!(failure.error.code, ErrorCode::InvalidClient, "{body}");
        assert!(failure.auth_failure.is_some());
    }
    let failure = provider
        .token(None, None, &form("grant_type=client_credentials"), NOW)
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::InvalidClient);
}

#[tokio::test]
async fn grant_type_checks() {
    let (_, provider) = provider();
    let failure = provider
        .token(
            Some(&basic("jwt-app", SECRET)),
            None,
            &form("grant_type=password"),
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::UnsupportedGrantType);
    let failure = provider
        .token(
            Some(&basic("no-grants", SECRET)),
            None,
            &form("grant_type=client_credentials"),
            NOW,
        )
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::UnauthorizedClient);
    let failure = provider
        .token(Some(&basic("jwt-app", SECRET)), None, &form(""), NOW)
        .await
        .unwrap_err();
    assert_eq!(failure.error.code, ErrorCode::InvalidRequest);
}

#[tokio::test]
async fn reference_tokens_are_visible_to_their_api_and_client_only() {
    let (_, provider) = provider();
    let issued = issue(&provider, "ref-app").await;
    assert_eq!(issued.response.access_token.len(), 43);
    let body = format!("token={}", issued.response.access_token);
    let by_api = provider
        .introspect(Some(&basic("https://orders", SECRET)), &form(&body), NOW)
        .await
        .unwrap();
    assert!(by_api.response.active);
    assert_eq!(by_api.caller, "https://orders");
    let by_other = provider
        .introspect(Some(&basic("other-app", SECRET)), &form(&body), NOW)
        .await
        .unwrap();
    assert!(!by_other.response.active);
    assert!(
        by_other.response.client_id.is_none(),
        "inactive answers reveal nothing"
    );
    let expired = Timestamp(NOW.as_secs() + 301);
    let later = provider
        .introspect(Some(&basic("ref-app", SECRET)), &form(&body), expired)
        .await
        .unwrap();
    assert!(!later.response.active);
}

#[tokio::test]
async fn revocation_is_immediate_and_limited_to_the_owner() {
    let (_, provider) = provider();
    for client in ["ref-app", "jwt-app"] {
        let issued = issue(&provider, client).await;
        let body = format!("token={}", issued.response.access_token);
        let failure = provider
            .revoke(Some(&basic("other-app", SECRET)), None, &form(&body), NOW)
            .await
            .unwrap_err();
        assert_eq!(failure.error.code, ErrorCode::UnauthorizedClient);
        let still = provider
            .introspect(Some(&basic(client, SECRET)), &form(&body), NOW)
            .await
            .unwrap();
        assert!(
            still.response.active,
            "a refused revocation changes nothing"
        );

        let outcome = provider
            .revoke(Some(&basic(client, SECRET)), None, &form(&body), NOW)
            .await
            .unwrap();
        assert!(outcome.revoked);
        let after = provider
            .introspect(Some(&basic(client, SECRET)), &form(&body), NOW)
            .await
            .unwrap();
        assert!(
            !after.response.active,
            "{client}: revoked token must be inactive"
        );
    }
}

#[tokio::test]
async fn unknown_and_tampered_tokens_are_inactive_and_revoke_quietly() {
    let (_, provider) = provider();
    let issued = issue(&provider, "jwt-app").await;
    let mut tampered = issued.response.access_token.clone();
    tampered.push('x');
    for token in ["nonsense", "a.b.c", tampered.as_str()] {
        let body = format!("token={token}");
        let answer = provider
            .introspect(Some(&basic("jwt-app", SECRET)), &form(&body), NOW)
            .await
            .unwrap();
        assert!(!answer.response.active, "{token}");
        let outcome = provider
            .revoke(Some(&basic("jwt-app", SECRET)), None, &form(&body), NOW)
            .await
            .unwrap();
        assert!(!outcome.revoked);
    }
}
