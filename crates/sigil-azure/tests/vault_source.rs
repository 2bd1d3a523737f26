//! The Azure key source against the Key Vault double, through the real SDK clients:
//! certificate mode, key mode (remote `sign`), session secrets, the bearer challenge, outages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use aws_lc_rs::rand::SystemRandom;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{Fixture, error_chain, now};
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Value, json};
use sigil_keys::{Algorithm, KeySource, KeySourceError, SigningKey, Timestamp};
use sigil_testkit::keyvault::{KeyKind, ObjectKind, SecretFormat, VersionSpec};

/// A compact JWS signed by `key` (remote or local).
async fn jws(key: &SigningKey) -> String {
    let header = key.encoded_header("JWT");
    let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"azure-test"}"#);
    let input = format!("{header}.{payload}");
    let signature = key
        .sign(&SystemRandom::new(), input.as_bytes())
        .await
        .expect("signs");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// Verifies `token` with the double's public JWK, through jsonwebtoken (not sigil-keys).
fn verifies_with(token: &str, jwk: &Value, alg: jsonwebtoken::Algorithm) -> bool {
    let member = |name: &str| jwk[name].as_str().expect("member").to_owned();
    let key = match jwk["kty"].as_str() {
        Some("RSA") => DecodingKey::from_rsa_components(&member("n"), &member("e")),
        _ => DecodingKey::from_ec_components(&member("x"), &member("y")),
    }
    .expect("decoding key");
    let mut validation = Validation::new(alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(token, &key, &validation).is_ok()
}

/// A compact JWS signed by `key`, once checked to verify with `jwk` (the double's public key).
async fn jws_verifying_with(key: &SigningKey, jwk: &Value, alg: jsonwebtoken::Algorithm) -> String {
    let token = jws(key).await;
    assert!(
        verifies_with(&token, jwk, alg),
        "{alg:?} token does not verify"
    );
    token
}

fn same_public_key(key: &SigningKey, jwk: &Value) -> bool {
    let ours = key.public_jwk();
    ["kty", "n", "e", "crv", "x", "y"]
        .iter()
        .all(|m| ours.get(m) == jwk.get(m))
}

#[tokio::test]
async fn certificate_mode_publishes_enabled_versions_with_vault_times() {
    let fx = Fixture::start().await;
    let t = now();
    let old = fx.add_pem_certificate(
        "signing",
        KeyKind::Rsa2048,
        VersionSpec::created_at(t - 3000).expires(t + 86_400),
    );
    let off = fx.add_pem_certificate(
        "signing",
        KeyKind::Rsa2048,
        VersionSpec::created_at(t - 2000).disabled(),
    );
    let new = fx.add_pem_certificate(
        "signing",
        KeyKind::Rsa2048,
        VersionSpec::created_at(t - 1000).not_before(t + 60),
    );

    let source = fx.source(json!({ "certificate": "signing" }));
    let set = source.load().await.expect("loads");

    assert_eq!(set.signing.len(), 2, "the disabled version is left out");
    assert!(set.secrets.is_empty());
    let find = |jwk: &Value| set.signing.iter().find(|k| same_public_key(k, jwk));
    assert!(find(&off.public_jwk).is_none());
    let old_key = find(&old.public_jwk).expect("old version loaded");
    assert_eq!(old_key.created(), Timestamp(t - 3000));
    assert_eq!(old_key.expires(), Some(Timestamp(t + 86_400)));
    let new_key = find(&new.public_jwk).expect("new version loaded");
    assert_eq!(new_key.created(), Timestamp(t - 1000));
    assert_eq!(new_key.not_before(), Timestamp(t + 60));
    assert_eq!(new_key.expires(), None);
    assert!(!new_key.is_remote(), "certificate keys sign locally");
    assert_eq!(new_key.alg(), Algorithm::RS256);
    // Three versions at two per page: the SDK followed a nextLink.
    assert!(fx.double.counters().vault_requests >= 2 + 2);
    assert_eq!(fx.double.last_api_version().as_deref(), Some("2025-07-01"));

    jws_verifying_with(new_key, &new.public_jwk, jsonwebtoken::Algorithm::RS256).await;
    assert_eq!(fx.double.counters().sign_calls, 0);
}

#[tokio::test]
async fn the_bearer_challenge_is_answered_once_per_client() {
    let fx = Fixture::start().await;
    fx.add_pem_certificate("signing", KeyKind::EcP256, VersionSpec::created_at(now()));
    let source = fx.source(json!({ "certificate": "signing" }));

    source.load().await.expect("first load");
    let first = fx.double.counters();
    // The certificates and the secrets client each meet the 401 challenge once, then share
    // the credential's cached token.
    assert_eq!(first.challenges, 2);
    assert_eq!(first.token_requests, 1);

    source.load().await.expect("second load");
    let second = fx.double.counters();
    assert_eq!(second.challenges, first.challenges);
    assert_eq!(second.token_requests, first.token_requests);
}

#[tokio::test]
async fn key_mode_signs_through_the_vault_rs256_and_es256() {
    let fx = Fixture::start().await;
    let t = now();
    let rsa = fx.add_key(
        "rsa-key",
        KeyKind::Rsa2048,
        VersionSpec::created_at(t - 100),
    );
    let ec_old = fx.add_key("ec-key", KeyKind::EcP256, VersionSpec::created_at(t - 200));
    let ec_new = fx.add_key("ec-key", KeyKind::EcP256, VersionSpec::created_at(t - 100));
    fx.double
        .disable(ObjectKind::Key, "ec-key", &ec_old.version);

    let set = fx.source(json!({ "key": "rsa-key" })).load().await.unwrap();
    let [key] = set.signing.as_slice() else {
        panic!("one RSA key version, got {}", set.signing.len());
    };
    assert!(key.is_remote());
    assert_eq!(key.alg(), Algorithm::RS256);
    assert_eq!(key.created(), Timestamp(t - 100));
    jws_verifying_with(key, &rsa.public_jwk, jsonwebtoken::Algorithm::RS256).await;
    assert_eq!(fx.double.counters().sign_calls, 1);

    let set = fx.source(json!({ "key": "ec-key" })).load().await.unwrap();
    let [key] = set.signing.as_slice() else {
        panic!("one enabled EC key version, got {}", set.signing.len());
    };
    assert!(same_public_key(key, &ec_new.public_jwk));
    assert_eq!(key.alg(), Algorithm::ES256);
    let token = jws_verifying_with(key, &ec_new.public_jwk, jsonwebtoken::Algorithm::ES256).await;
    assert!(!verifies_with(
        &token,
        &ec_old.public_jwk,
        jsonwebtoken::Algorithm::ES256
    ));
    assert_eq!(fx.double.counters().sign_calls, 2);
}

/// ES256 access tokens and RS256 ID tokens from one vault: one object per algorithm, each
/// object's versions that algorithm's chain.
#[tokio::test]
async fn several_objects_give_one_chain_per_algorithm() {
    let fx = Fixture::start().await;
    fx.add_pem_certificate("ec-cert", KeyKind::EcP256, VersionSpec::created_at(now()));
    let rsa = fx.add_key("rsa-key", KeyKind::Rsa2048, VersionSpec::created_at(now()));
    let source = fx.source(json!({
        "signing": [{ "certificate": "ec-cert" }, { "key": "rsa-key" }],
    }));
    assert!(
        source
            .describe()
            .contains("certificate ec-cert, key rsa-key"),
        "{}",
        source.describe()
    );
    let set = source.load().await.unwrap();
    let mut algs: Vec<Algorithm> = set.signing.iter().map(SigningKey::alg).collect();
    algs.sort();
    assert_eq!(algs, [Algorithm::RS256, Algorithm::ES256]);
    let remote = set
        .signing
        .iter()
        .find(|key| key.is_remote())
        .expect("the vault key");
    jws_verifying_with(remote, &rsa.public_jwk, jsonwebtoken::Algorithm::RS256).await;
}

#[tokio::test]
async fn key_mode_ps256_when_configured() {
    let fx = Fixture::start().await;
    let rsa = fx.add_key("rsa-key", KeyKind::Rsa2048, VersionSpec::created_at(now()));
    let source = fx.source(json!({ "key": "rsa-key", "alg": "PS256" }));
    let set = source.load().await.unwrap();
    let key = set.signing.first().expect("a key");
    assert_eq!(key.alg(), Algorithm::PS256);
    jws_verifying_with(key, &rsa.public_jwk, jsonwebtoken::Algorithm::PS256).await;
}

#[tokio::test]
async fn a_disabled_key_version_stops_signing() {
    let fx = Fixture::start().await;
    let added = fx.add_key("ec-key", KeyKind::EcP256, VersionSpec::created_at(now()));
    let set = fx.source(json!({ "key": "ec-key" })).load().await.unwrap();
    let key = set.signing.first().expect("a key");
    fx.double.disable(ObjectKind::Key, "ec-key", &added.version);
    let refused = key.sign(&SystemRandom::new(), b"x.y").await;
    let message = refused.expect_err("the vault refuses").to_string();
    assert!(message.contains("HTTP 403"), "{message}");
    assert!(
        message.contains(&added.version),
        "names the key version: {message}"
    );
}

#[tokio::test]
async fn session_secret_versions_come_with_their_times() {
    let fx = Fixture::start().await;
    let t = now();
    fx.add_key("k", KeyKind::EcP256, VersionSpec::created_at(t));
    let value = |byte: u8| STANDARD.encode([byte; 32]);
    let first =
        fx.double
            .add_secret_version("session", &value(1), None, VersionSpec::created_at(t - 500));
    fx.double.add_secret_version(
        "session",
        &value(2),
        None,
        VersionSpec::created_at(t - 400).disabled(),
    );
    let third = fx.double.add_secret_version(
        "session",
        &value(3),
        Some("text/plain"),
        VersionSpec::created_at(t - 300).not_before(t + 30),
    );

    let set = fx
        .source(json!({ "key": "k", "session_secret": "session" }))
        .load()
        .await
        .unwrap();
    let ids: Vec<&str> = set.secrets.iter().map(|s| s.id()).collect();
    assert_eq!(ids, [first.version.as_str(), third.version.as_str()]);
    assert_eq!(set.secrets[0].created(), Timestamp(t - 500));
    assert_eq!(set.secrets[1].created(), Timestamp(t - 300));
    assert_eq!(set.secrets[1].not_before(), Timestamp(t + 30));
}

#[tokio::test]
async fn a_session_secret_that_is_not_base64_of_32_bytes_is_refused_without_echoing_it() {
    let fx = Fixture::start().await;
    fx.add_key("k", KeyKind::EcP256, VersionSpec::created_at(now()));
    let raw = "not base64 at all, but a passphrase!";
    fx.double
        .add_secret_version("session", raw, None, VersionSpec::created_at(now()));
    let source = fx.source(json!({ "key": "k", "session_secret": "session" }));
    let error = source.load().await.expect_err("refused");
    let text = format!("{error} {error:?}");
    assert!(
        matches!(error, KeySourceError::InvalidMetadata { .. }),
        "{text}"
    );
    assert!(!text.contains(raw), "{text}");

    let short = fx.double.add_secret_version(
        "short",
        &STANDARD.encode([7u8; 16]),
        None,
        VersionSpec::created_at(now()),
    );
    let source = fx.source(json!({ "key": "k", "session_secret": "short" }));
    let error = source.load().await.expect_err("16 bytes are refused");
    assert!(
        matches!(&error, KeySourceError::InvalidKey { path, .. } if path.contains(&short.version)),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_pkcs12_certificate_gets_an_error_that_says_what_to_change() {
    let fx = Fixture::start().await;
    fx.double
        .add_certificate_version(
            "pfx",
            KeyKind::Rsa2048,
            VersionSpec::created_at(now()),
            SecretFormat::Pkcs12,
        )
        .unwrap();
    let error = fx
        .source(json!({ "certificate": "pfx" }))
        .load()
        .await
        .expect_err("PKCS#12 is refused");
    let text = error.to_string();
    assert!(text.contains("application/x-pem-file"), "{text}");
    assert!(text.contains("/secrets/pfx/"), "names the secret: {text}");
}

#[tokio::test]
async fn an_outage_is_unavailable_naming_the_vault_and_object() {
    let fx = Fixture::start().await;
    fx.add_pem_certificate("signing", KeyKind::EcP256, VersionSpec::created_at(now()));
    let source = fx.source(json!({ "certificate": "signing" }));
    assert_eq!(source.load().await.unwrap().signing.len(), 1);

    fx.double.set_outage(true);
    let error = source.load().await.expect_err("outage");
    let KeySourceError::Unavailable { source_name, cause } = &error else {
        panic!("expected Unavailable, got {error:?}");
    };
    let vault = fx.double.vault_url();
    let vault = vault.trim_end_matches('/');
    assert!(source_name.contains(vault), "{source_name}");
    let cause = cause.to_string();
    assert!(
        cause.contains(&format!("{vault}/certificates/signing")),
        "{cause}"
    );
    assert!(cause.contains("HTTP 503"), "{cause}");

    fx.double.set_outage(false);
    assert_eq!(source.load().await.unwrap().signing.len(), 1, "recovers");
}

#[tokio::test]
async fn a_missing_object_is_unavailable_with_the_vaults_404() {
    let fx = Fixture::start().await;
    let error = fx
        .source(json!({ "key": "nope" }))
        .load()
        .await
        .expect_err("no such key");
    let text = error_chain(&error);
    assert!(
        text.contains("HTTP 404") && text.contains("/keys/nope"),
        "{text}"
    );
}

#[tokio::test]
async fn by_default_a_challenge_resource_foreign_to_the_vault_host_is_refused() {
    let fx = Fixture::start().await;
    fx.add_key("k", KeyKind::EcP256, VersionSpec::created_at(now()));
    // The double's challenge names https://vault.azure.net while the vault is 127.0.0.1:
    // the SDK's check refuses to send a token there unless it is turned off.
    let mut config = fx.config(json!({ "key": "k" }));
    config.verify_challenge_resource = true;
    let source = sigil_azure::AzureKeySource::new(&config).unwrap();
    let error = source.load().await.expect_err("refused");
    let text = error_chain(&error);
    assert!(
        text.contains("doesn't match the requested domain"),
        "{text}"
    );
    assert_eq!(
        fx.double.counters().token_requests,
        0,
        "no token was fetched"
    );
}
