//! `sigil dev` keeps its signing key and its grants across restarts — clean ones and kill -9.

use sigil_e2e::{CLIENT_SECRET, active_for_api, config, issue_token};
use sigil_testkit::SigilDev;
use sigil_testkit::client::{basic, form, get_json, post_form, verify_access_token};

#[tokio::test]
async fn keys_and_grants_survive_restarts() {
    let temp = tempfile::tempdir().unwrap();
    let data_dir = temp.path().join("data");
    let yaml = config("tokens.yaml", &[]);

    let mut first = SigilDev::start_in(&data_dir, Some(&yaml), &[])
        .await
        .unwrap();
    let jwks_before = get_json(&first.url("/.well-known/jwks.json"))
        .await
        .unwrap();
    let jwt = issue_token(&first, "jwt-client").await;
    let kept = issue_token(&first, "ref-client").await;
    let revoked = issue_token(&first, "ref-client").await;
    let response = post_form(
        &first.url("/connect/revocation"),
        Some(&basic("ref-client", CLIENT_SECRET)),
        &form(&[("token", &revoked)]),
    )
    .await
    .unwrap();
    assert_eq!(response.status, 200);
    let issuer_before = first.base_url.clone();
    assert!(first.stop().unwrap().success(), "clean shutdown on SIGTERM");

    let second = SigilDev::start_in(&data_dir, Some(&yaml), &[])
        .await
        .unwrap();
    let jwks_after = get_json(&second.url("/.well-known/jwks.json"))
        .await
        .unwrap();
    assert_eq!(
        jwks_before, jwks_after,
        "the dev key is generated once and reused"
    );
    // The port changed (it is picked at random), so the issuer differs; the signature and
    // audience still verify against the new JWKS.
    verify_access_token(&jwt, &jwks_after, &issuer_before, "https://orders.test").unwrap();
    assert!(
        active_for_api(&second, &kept).await,
        "reference token survives a restart"
    );
    assert!(
        !active_for_api(&second, &revoked).await,
        "a revoked token stays revoked"
    );
}

#[tokio::test]
async fn acknowledged_grants_survive_kill_9() {
    let temp = tempfile::tempdir().unwrap();
    let data_dir = temp.path().join("data");
    let yaml = config("tokens.yaml", &[]);

    let mut first = SigilDev::start_in(&data_dir, Some(&yaml), &[])
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for _ in 0..20 {
        tokens.push(issue_token(&first, "ref-client").await);
    }
    first.kill().unwrap();

    let second = SigilDev::start_in(&data_dir, Some(&yaml), &[])
        .await
        .unwrap();
    for token in &tokens {
        assert!(
            active_for_api(&second, token).await,
            "every acknowledged reference token is still there"
        );
    }
}
