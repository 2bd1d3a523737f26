//! Each client authentication method, and each way it can fail, over HTTP.

use serde_json::json;
use sigil_e2e::{CLIENT_SECRET, config, issue_token};
use sigil_testkit::SigilDev;
use sigil_testkit::client::{ClientKey, assertion_claims, basic, form, post_form};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async fn start(key: &ClientKey) -> SigilDev {
    let jwk = key.public_jwk.to_string();
    SigilDev::start(Some(&config(
        "client_auth.yaml",
        &[("ALG", "ES256"), ("CLIENT_JWK", &jwk)],
    )))
    .await
    .unwrap()
}

fn assertion_form(assertion: &str) -> String {
    form(&[
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion),
    ])
}

#[tokio::test]
async fn every_method_succeeds_when_used_right() {
    let key = ClientKey::generate("k1").unwrap();
    let sigil = start(&key).await;
    let token_url = sigil.url("/connect/token");

    let by_basic = post_form(
        &token_url,
        Some(&basic("basic-client", CLIENT_SECRET)),
        "grant_type=client_credentials",
    )
    .await
    .unwrap();
    assert_eq!(by_basic.status, 200, "{:?}", by_basic.body);
    assert_eq!(by_basic.cache_control.as_deref(), Some("no-store"));

    let by_post = post_form(
        &token_url,
        None,
        &form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "post-client"),
            ("client_secret", CLIENT_SECRET),
        ]),
    )
    .await
    .unwrap();
    assert_eq!(by_post.status, 200, "{:?}", by_post.body);

    // The assertion's audience may be the token endpoint URL or the issuer.
    for audience in [token_url.clone(), sigil.base_url.clone()] {
        let assertion = key.assertion("jwt-auth-client", &audience).unwrap();
        let by_jwt = post_form(&token_url, None, &assertion_form(&assertion))
            .await
            .unwrap();
        assert_eq!(by_jwt.status, 200, "{:?}", by_jwt.body);
    }

    let audit = sigil
        .wait_for_log(|line| {
            line["event"] == "token_issued" && line["client_id"] == "jwt-auth-client"
        })
        .await
        .unwrap();
    assert_eq!(audit["grant_type"], "client_credentials");
}

async fn assert_invalid_client(
    sigil: &SigilDev,
    authorization: Option<&str>,
    body: &str,
    case: &str,
) {
    let answer = post_form(&sigil.url("/connect/token"), authorization, body)
        .await
        .unwrap();
    assert_eq!(answer.status, 401, "{case}: {:?}", answer.body);
    assert_eq!(answer.body["error"], "invalid_client", "{case}");
    assert_eq!(
        answer.www_authenticate.as_deref(),
        Some("Basic realm=\"sigil\""),
        "{case}"
    );
}

#[tokio::test]
async fn secret_failures_are_invalid_client_and_audited() {
    let key = ClientKey::generate("k1").unwrap();
    let sigil = start(&key).await;
    let grant = "grant_type=client_credentials";
    assert_invalid_client(
        &sigil,
        Some(&basic("basic-client", "wrong")),
        grant,
        "wrong secret",
    )
    .await;
    assert_invalid_client(
        &sigil,
        Some(&basic("nobody", CLIENT_SECRET)),
        grant,
        "unknown client",
    )
    .await;
    assert_invalid_client(&sigil, None, grant, "no credentials").await;
    // A client is held to its registered method: a basic client cannot use the body, and
    // the other way round.
    let post_body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "basic-client"),
        ("client_secret", CLIENT_SECRET),
    ]);
    assert_invalid_client(&sigil, None, &post_body, "basic client using post").await;
    assert_invalid_client(
        &sigil,
        Some(&basic("post-client", CLIENT_SECRET)),
        grant,
        "post client using basic",
    )
    .await;
    // A public client cannot pretend to be a confidential one by sending only its id.
    let id_only = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "basic-client"),
    ]);
    assert_invalid_client(&sigil, None, &id_only, "confidential client without secret").await;

    let audit = sigil
        .wait_for_log(|line| {
            line["event"] == "client_authentication_failed" && line["client_id"] == "basic-client"
        })
        .await
        .unwrap();
    assert!(audit["reason"].is_string());
    let logs = std::fs::read_to_string(&sigil.log_path).unwrap();
    assert!(
        !logs.contains(CLIENT_SECRET),
        "secrets never reach the logs"
    );
}

#[tokio::test]
async fn public_clients_cannot_use_client_credentials() {
    let key = ClientKey::generate("k1").unwrap();
    let sigil = start(&key).await;
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "public-client"),
    ]);
    let answer = post_form(&sigil.url("/connect/token"), None, &body)
        .await
        .unwrap();
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"], "unauthorized_client");
}

#[tokio::test]
async fn client_assertion_attacks_are_refused() {
    let key = ClientKey::generate("k1").unwrap();
    let sigil = start(&key).await;
    let token_url = sigil.url("/connect/token");

    // Replay: the same assertion twice.
    let assertion = key.assertion("jwt-auth-client", &token_url).unwrap();
    assert_eq!(
        post_form(&token_url, None, &assertion_form(&assertion))
            .await
            .unwrap()
            .status,
        200
    );
    assert_invalid_client(
        &sigil,
        None,
        &assertion_form(&assertion),
        "replayed assertion",
    )
    .await;

    // Expired, too long-lived, wrong audience, wrong issuer.
    let expired = key
        .sign(&assertion_claims("jwt-auth-client", &token_url, -120))
        .unwrap();
    assert_invalid_client(&sigil, None, &assertion_form(&expired), "expired").await;
    let long_lived = key
        .sign(&assertion_claims("jwt-auth-client", &token_url, 3600))
        .unwrap();
    assert_invalid_client(&sigil, None, &assertion_form(&long_lived), "lives an hour").await;
    let elsewhere = key
        .assertion("jwt-auth-client", "https://other.example/token")
        .unwrap();
    assert_invalid_client(&sigil, None, &assertion_form(&elsewhere), "wrong audience").await;
    let mut claims = assertion_claims("jwt-auth-client", &token_url, 60);
    claims["iss"] = json!("someone-else");
    assert_invalid_client(
        &sigil,
        None,
        &assertion_form(&key.sign(&claims).unwrap()),
        "iss != sub",
    )
    .await;
    let mut no_jti = assertion_claims("jwt-auth-client", &token_url, 60);
    no_jti.as_object_mut().unwrap().remove("jti");
    assert_invalid_client(
        &sigil,
        None,
        &assertion_form(&key.sign(&no_jti).unwrap()),
        "no jti",
    )
    .await;

    // Signed by a key the client never registered, even under the registered kid.
    let impostor = ClientKey::generate("k1").unwrap();
    let forged = impostor.assertion("jwt-auth-client", &token_url).unwrap();
    assert_invalid_client(&sigil, None, &assertion_form(&forged), "foreign key").await;

    // Algorithm confusion: HS256 keyed with the client's public key material.
    let public_x = key.public_jwk["x"].as_str().unwrap().as_bytes().to_vec();
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some("k1".into()),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
        },
        &assertion_claims("jwt-auth-client", &token_url, 60),
        &jsonwebtoken::EncodingKey::from_secret(&public_x),
    )
    .unwrap();
    assert_invalid_client(
        &sigil,
        None,
        &assertion_form(&hs256),
        "HS256 with public key",
    )
    .await;

    // alg "none".
    let unsigned = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","kid":"k1"}"#),
        b64(&assertion_claims("jwt-auth-client", &token_url, 60).to_string())
    );
    assert_invalid_client(&sigil, None, &assertion_form(&unsigned), "alg none").await;

    // A valid assertion for a secret-based client does not stand in for its secret.
    let for_basic = key.assertion("basic-client", &token_url).unwrap();
    assert_invalid_client(
        &sigil,
        None,
        &assertion_form(&for_basic),
        "assertion for a secret client",
    )
    .await;
}

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// RFC 8037 Appendix A.1's Ed25519 private key (`d`), as PKCS#8 v1: the key
/// `ed25519-client` registered.
fn rfc8037_pkcs8() -> Vec<u8> {
    use base64::Engine as _;
    let seed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
        .unwrap();
    let mut pkcs8 = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    pkcs8.extend_from_slice(&seed);
    pkcs8
}

/// A client assertion for `ed25519-client` signed with Ed25519 under the header `alg` given,
/// as oauth4webapi (`Ed25519`) or older libraries (`EdDSA`) send it.
fn ed25519_assertion(alg: &str, audience: &str) -> String {
    let header = json!({ "alg": alg, "kid": "ed", "typ": "JWT" });
    let claims = assertion_claims("ed25519-client", audience, 60);
    let input = format!("{}.{}", b64(&header.to_string()), b64(&claims.to_string()));
    let signature = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &jsonwebtoken::EncodingKey::from_ed_der(&rfc8037_pkcs8()),
        jsonwebtoken::Algorithm::EdDSA,
    )
    .unwrap();
    format!("{input}.{signature}")
}

#[tokio::test]
async fn ed25519_assertions_work_under_both_algorithm_names() {
    let key = ClientKey::generate("k1").unwrap();
    let sigil = start(&key).await;
    let token_url = sigil.url("/connect/token");
    for alg in ["Ed25519", "EdDSA"] {
        let answer = post_form(
            &token_url,
            None,
            &assertion_form(&ed25519_assertion(alg, &token_url)),
        )
        .await
        .unwrap();
        assert_eq!(answer.status, 200, "alg {alg}: {:?}", answer.body);
    }

    // An algorithm the key is not for, and one nobody knows, are refused, and the audit log
    // says which alg was wrong rather than "malformed header".
    for (alg, reason) in [
        ("ES256", "no registered key is for alg `ES256`"),
        ("Ed448", "unsupported alg `Ed448`"),
    ] {
        assert_invalid_client(
            &sigil,
            None,
            &assertion_form(&ed25519_assertion(alg, &token_url)),
            alg,
        )
        .await;
        let audit = sigil
            .wait_for_log(|line| {
                line["event"] == "client_authentication_failed"
                    && line["reason"]
                        .as_str()
                        .is_some_and(|logged| logged.contains(reason))
            })
            .await;
        assert!(audit.is_ok(), "no audit record naming {reason}");
    }
}

#[tokio::test]
async fn basic_credentials_decode_the_id_and_the_secret_apart() {
    use base64::Engine as _;
    let key = ClientKey::generate("k1").unwrap();
    let sigil = start(&key).await;
    let token_url = sigil.url("/connect/token");
    let raw_basic = |pair: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    };
    let grant = "grant_type=client_credentials";

    // A user name that reads as a second `id` field must not authenticate as that client.
    assert_invalid_client(
        &sigil,
        Some(&raw_basic(&format!("&id=basic-client:{CLIENT_SECRET}"))),
        grant,
        "smuggled client id",
    )
    .await;
    let audit = sigil
        .wait_for_log(|line| {
            line["event"] == "client_authentication_failed"
                && line["client_id"] == "&id=basic-client"
        })
        .await;
    assert!(audit.is_ok(), "the failure names the client id as sent");

    // A secret with `&` and `:`, sent raw (as curl -u does) and form-encoded (RFC 6749).
    for (how, authorization) in [
        ("raw", raw_basic("symbols-client:amp&colon:end")),
        ("form-encoded", basic("symbols-client", "amp&colon:end")),
    ] {
        let answer = post_form(&token_url, Some(&authorization), grant)
            .await
            .unwrap();
        assert_eq!(answer.status, 200, "{how}: {:?}", answer.body);
    }
    // Cut at the `&`, the secret is wrong.
    assert_invalid_client(
        &sigil,
        Some(&raw_basic("symbols-client:amp")),
        grant,
        "the secret cut short",
    )
    .await;
}

/// Latencies of one kind of request, in arrival order, and how many did not succeed.
#[derive(Default)]
struct Latencies {
    each: Vec<std::time::Duration>,
    failed: usize,
}

impl Latencies {
    fn p99(&self) -> std::time::Duration {
        let mut sorted = self.each.clone();
        sorted.sort_unstable();
        let index = (sorted.len() * 99).div_ceil(100).saturating_sub(1);
        sorted.get(index).copied().unwrap_or_default()
    }

    async fn time(&mut self, request: reqwest::RequestBuilder) {
        let started = std::time::Instant::now();
        let succeeded = match request.send().await {
            Ok(response) => response.status() == 200 && response.bytes().await.is_ok(),
            Err(_) => false,
        };
        self.each.push(started.elapsed());
        self.failed += usize::from(!succeeded);
    }
}

/// For `how_long`, one request after another: a token for `basic-client` (SHA-256 secret),
/// then `/healthz`; returns their latencies.
async fn other_traffic(sigil: &SigilDev, how_long: std::time::Duration) -> (Latencies, Latencies) {
    let client = reqwest::Client::new();
    let (mut tokens, mut health) = (Latencies::default(), Latencies::default());
    let until = std::time::Instant::now() + how_long;
    while std::time::Instant::now() < until {
        let token_request = client
            .post(sigil.url("/connect/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", basic("basic-client", CLIENT_SECRET))
            .body("grant_type=client_credentials");
        tokens.time(token_request).await;
        health.time(client.get(sigil.url("/healthz"))).await;
    }
    (tokens, health)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_wrong_secrets_for_one_client_leaves_other_requests_alone() {
    use std::time::Duration;
    let key = ClientKey::generate("k1").unwrap();
    let sigil = start(&key).await;
    // Warm up connections and the signing key.
    other_traffic(&sigil, Duration::from_millis(500)).await;
    let (baseline_tokens, baseline_health) = other_traffic(&sigil, Duration::from_secs(3)).await;

    // 32 attackers send wrong secrets for the argon2id client, each as fast as answered.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attackers: Vec<_> = (0..32)
        .map(|_| {
            let stop = stop.clone();
            let url = sigil.url("/connect/token");
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut statuses = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let answer = client
                        .post(&url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .header("authorization", basic("argon2-client", "wrong guess"))
                        .body("grant_type=client_credentials")
                        .send()
                        .await;
                    // 0: the server dropped or timed out the connection.
                    statuses.push(answer.map_or(0, |answer| answer.status().as_u16()));
                }
                statuses
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (flood_tokens, flood_health) = other_traffic(&sigil, Duration::from_secs(5)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut statuses = Vec::new();
    for attacker in attackers {
        statuses.extend(attacker.await.unwrap());
    }

    let checked = statuses.iter().filter(|&&status| status == 401).count();
    let busy = statuses.iter().filter(|&&status| status == 503).count();
    let limit = |baseline: Duration| baseline * 5 + Duration::from_millis(100);
    eprintln!(
        "token p99 {:?} -> {:?} ({} -> {} requests); /healthz p99 {:?} -> {:?}; \
         {checked} guesses checked, {busy} refused as busy",
        baseline_tokens.p99(),
        flood_tokens.p99(),
        baseline_tokens.each.len(),
        flood_tokens.each.len(),
        baseline_health.p99(),
        flood_health.p99(),
    );
    assert!(
        flood_tokens.p99() <= limit(baseline_tokens.p99()),
        "other clients' token requests slowed from p99 {:?} to {:?}",
        baseline_tokens.p99(),
        flood_tokens.p99()
    );
    assert!(
        flood_health.p99() <= limit(baseline_health.p99()),
        "/healthz slowed from p99 {:?} to {:?}",
        baseline_health.p99(),
        flood_health.p99()
    );

    assert_eq!(
        (flood_tokens.failed, flood_health.failed),
        (0, 0),
        "other requests failed during the flood"
    );

    // Every guess was refused: checked and wrong (401), or not checked because this client's
    // share of the checking threads was taken (503, retry later). Never a 500, a 408 or a
    // dropped connection.
    assert_eq!(checked + busy, statuses.len(), "{statuses:?}");
    assert!(
        checked >= 8,
        "the flood reached the argon2id check ({checked} checked)"
    );

    // The metrics tell checked wrong secrets from guesses that were never checked.
    let metrics = sigil_testkit::cluster::metrics_text(&sigil.base_url)
        .await
        .unwrap();
    let count = |name: &str| -> usize {
        let series = format!("{name}{{endpoint=\"token\"}} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(&series))
            .and_then(|value| value.parse().ok())
            .unwrap_or(0)
    };
    assert_eq!(
        count("sigil_client_authentication_failures_total"),
        checked,
        "{metrics}"
    );
    assert_eq!(
        count("sigil_client_authentication_deferred_total"),
        busy,
        "{metrics}"
    );

    // The attacked client still gets in with its secret once the flood is over.
    issue_token(&sigil, "argon2-client").await;
}
