//! Key rotation across pods, as an API sees it: three (then four) `sigil serve` pods share one
//! `file` key source; a validator that caches the JWKS of one pod only, for as long as its
//! `Cache-Control` allows (never refetching on an unknown `kid`, the strictest validator),
//! checks every token every pod issues before, during and after a rotation, through a
//! key-source outage, and after the old key is removed while still in retention. Not one
//! token may be rejected.

use sigil_e2e::{
    CLIENT_SECRET, POD_ISSUER, config, issue_token, kid_of, serving_address, sigil_keys,
};
use sigil_testkit::SigilDev;
use sigil_testkit::client::verify_access_token;
use sigil_testkit::cluster::StoreCluster;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// A key signs 6 s after `sigil keys rotate` publishes it; pods reread the source every
/// second (and notice file changes within a second); retired keys stay published 8 s.
const PROPAGATION_SECS: u64 = 6;
const RETENTION_SECS: u64 = 8;

fn rotation_config(keys: &Path) -> String {
    format!(
        "{}\nserver: {{ issuer: \"{POD_ISSUER}\" }}\n\
         signing:\n  algorithm: ES256\n  source: {{ kind: file, path: \"{}\" }}\n  \
         refresh_interval: 1s\n  \
         rotation: {{ propagation: {PROPAGATION_SECS}s, rotation: 1h, retention: {RETENTION_SECS}s }}\n",
        config("tokens.yaml", &[]),
        keys.display()
    )
    // Retention must cover the longest token lifetime; shorten tokens to match the test's
    // short retention.
    .replace("    access_token_lifetime: 10m\n", "")
    .replace("    access_token_lifetime: 5m\n", "")
    .replace(
        "    grant_types: [client_credentials]\n",
        "    grant_types: [client_credentials]\n    access_token_lifetime: 5s\n",
    )
}

/// An API's token validation: the JWKS of one pod, cached for `max-age`.
struct CachingValidator {
    jwks_url: String,
    cached: Option<(serde_json::Value, Instant, Duration)>,
    fetches: u32,
}

impl CachingValidator {
    fn new(pod: &SigilDev) -> Self {
        Self {
            jwks_url: pod.url("/.well-known/jwks.json"),
            cached: None,
            fetches: 0,
        }
    }

    async fn jwks(&mut self) -> serde_json::Value {
        if let Some((jwks, fetched, max_age)) = &self.cached {
            if fetched.elapsed() < *max_age {
                return jwks.clone();
            }
        }
        let response = reqwest::get(&self.jwks_url).await.unwrap();
        let cache_control = response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .to_owned();
        let max_age: u64 = cache_control
            .split("max-age=")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .and_then(|seconds| seconds.trim().parse().ok())
            .unwrap_or_else(|| panic!("no max-age in {cache_control:?}"));
        let jwks: serde_json::Value = response.json().await.unwrap();
        self.cached = Some((jwks.clone(), Instant::now(), Duration::from_secs(max_age)));
        self.fetches += 1;
        jwks
    }

    async fn validate(&mut self, token: &str) -> Result<serde_json::Value, String> {
        let jwks = self.jwks().await;
        verify_access_token(token, &jwks, POD_ISSUER, "https://orders.test")
            .map_err(|error| format!("{error:#}"))
    }
}

/// What a stretch of traffic saw.
#[derive(Debug, Default)]
struct Traffic {
    tokens: usize,
    rejected: Vec<String>,
    kids: BTreeSet<String>,
}

/// Every 100 ms, one token from each pod, each checked by the validator at once.
async fn traffic(
    pods: &[&SigilDev],
    validator: &mut CachingValidator,
    for_how_long: Duration,
) -> Traffic {
    let mut seen = Traffic::default();
    let until = Instant::now() + for_how_long;
    while Instant::now() < until {
        for (index, pod) in pods.iter().enumerate() {
            let token = issue_token(pod, "jwt-client").await;
            seen.kids.insert(kid_of(&token));
            seen.tokens += 1;
            if let Err(error) = validator.validate(&token).await {
                seen.rejected
                    .push(format!("pod {index}, kid {}: {error}", kid_of(&token)));
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    seen
}

async fn metric(pod: &SigilDev, name: &str) -> f64 {
    let text = reqwest::get(pod.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} not in /metrics"))
}

#[tokio::test]
async fn no_validator_rejects_a_token_through_rotation_outage_and_early_removal() {
    let cluster = StoreCluster::start(1).await.unwrap();
    let keys = cluster.dir("keys");
    let config_text = rotation_config(&keys);
    let config_path = cluster.dir("keys-config.yaml");
    std::fs::write(&config_path, &config_text).unwrap();
    let generated = sigil_keys(&["generate"], &config_path, &[]);
    // "signing key KID (ES256), active at once"
    let generated_kid = generated
        .split_whitespace()
        .nth(2)
        .unwrap_or_else(|| panic!("{generated}"))
        .to_owned();

    let mut pods = Vec::new();
    for name in ["pod-a", "pod-b", "pod-c"] {
        pods.push(
            SigilDev::start_pod(&cluster.dir(name), &config_text, &cluster.endpoints())
                .await
                .unwrap(),
        );
    }
    let mut validator = CachingValidator::new(&pods[0]);
    let mut total = Traffic::default();
    let record = |phase: &str, seen: Traffic, total: &mut Traffic| {
        assert!(
            seen.rejected.is_empty(),
            "{phase}: rejected {:?}",
            seen.rejected
        );
        total.tokens += seen.tokens;
        seen.kids
    };

    // Before: one key, every pod signs with it.
    let pod_refs: Vec<&SigilDev> = pods.iter().collect();
    let before = record(
        "before",
        traffic(&pod_refs, &mut validator, Duration::from_secs(2)).await,
        &mut total,
    );
    assert_eq!(before.len(), 1, "{before:?}");
    let old_kid = before.first().unwrap().clone();
    assert_eq!(old_kid, generated_kid);
    let old_token = issue_token(&pods[1], "jwt-client").await;

    // Rotate: the new key is published at once but does not sign for the propagation period.
    let rotated = sigil_keys(&["rotate"], &config_path, &[]);
    let rotated_at = Instant::now();
    assert!(rotated.contains("published now"), "{rotated}");

    // A pod started mid-rotation agrees with the others.
    pods.push(
        SigilDev::start_pod(&cluster.dir("pod-d"), &config_text, &cluster.endpoints())
            .await
            .unwrap(),
    );
    let pod_refs: Vec<&SigilDev> = pods.iter().collect();
    let pending = record(
        "pending",
        traffic(&pod_refs, &mut validator, Duration::from_secs(2)).await,
        &mut total,
    );
    assert_eq!(
        pending, before,
        "the new key signed before its propagation period ended"
    );
    let jwks = validator.jwks().await;
    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        2,
        "the new key is published: {jwks}"
    );

    // The source goes away while the new key takes over: pods keep the last good set, and the
    // key that was pending starts signing on schedule.
    let away = cluster.dir("keys-away");
    std::fs::rename(&keys, &away).unwrap();
    let outage = record(
        "outage",
        traffic(
            &pod_refs,
            &mut validator,
            Duration::from_secs(PROPAGATION_SECS + 1).saturating_sub(rotated_at.elapsed()),
        )
        .await,
        &mut total,
    );
    assert!(metric(&pods[0], "sigil_key_source_consecutive_failures").await >= 1.0);
    let ready = reqwest::get(pods[0].url("/readyz")).await.unwrap();
    assert_eq!(
        ready.status(),
        200,
        "a source outage must not make a loaded pod unready"
    );
    std::fs::rename(&away, &keys).unwrap();
    assert!(!outage.is_empty());

    // After: every pod signs with the new key.
    let after = record(
        "after",
        traffic(&pod_refs, &mut validator, Duration::from_secs(2)).await,
        &mut total,
    );
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after.first(), Some(&old_kid));
    assert_eq!(
        metric(&pods[0], "sigil_key_source_consecutive_failures").await,
        0.0
    );

    // The old key's files are deleted while it is still within retention: pods keep
    // publishing it, so its tokens still verify, even for a validator fetching afresh.
    // (`sigil keys` names key files `<alg>-<created>-<kid prefix>`.)
    let mut deleted = 0;
    for entry in std::fs::read_dir(&keys).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("es256-") && name.contains(&old_kid[..8]) {
            std::fs::remove_file(&path).unwrap();
            deleted += 1;
        }
    }
    assert_eq!(deleted, 2, "the old key and its sidecar");
    let removed = record(
        "removed",
        traffic(&pod_refs, &mut validator, Duration::from_secs(3)).await,
        &mut total,
    );
    assert_eq!(removed, after);
    for pod in &pods {
        let jwks = CachingValidator::new(pod).jwks().await;
        signature_verifies(&old_token, &jwks).unwrap_or_else(|error| {
            panic!("an old token was rejected while its key is in retention: {error}")
        });
    }

    // After retention the old key leaves every JWKS (retirement), and nothing was rejected.
    tokio::time::sleep(Duration::from_secs(RETENTION_SECS + 2)).await;
    let final_jwks = CachingValidator::new(&pods[3]).jwks().await;
    let kids: Vec<&str> = final_jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap())
        .collect();
    assert!(!kids.contains(&old_kid.as_str()), "{kids:?}");
    let retired = record(
        "retired",
        traffic(&pod_refs, &mut validator, Duration::from_secs(2)).await,
        &mut total,
    );
    assert_eq!(retired, after);
    assert!(total.tokens > 100, "only {} tokens checked", total.tokens);
    eprintln!(
        "{} tokens from {} pods checked, 0 rejected, {} JWKS fetches",
        total.tokens,
        pods.len(),
        validator.fetches
    );
}

/// Only the signature, against the key the JWKS names (the token itself may have expired by
/// now: the point is that the key verifying it is still published).
fn signature_verifies(token: &str, jwks: &serde_json::Value) -> Result<(), String> {
    let kid = kid_of(token);
    let jwk = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|key| key["kid"] == kid.as_str()))
        .ok_or_else(|| format!("kid {kid} not published"))?;
    let jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(jwk.clone()).map_err(|e| e.to_string())?;
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// A pod started while its key source holds nothing yet (a Secret not yet created, a volume
/// not yet populated) does not crash-loop: it listens, stays unready, and joins as soon as a
/// key appears.
#[tokio::test]
async fn a_pod_started_before_any_key_exists_waits_unready_then_joins() {
    let cluster = StoreCluster::start(1).await.unwrap();
    let keys = cluster.dir("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let config_text = rotation_config(&keys);
    let pod_dir = cluster.dir("pod");
    let endpoints = cluster.endpoints();
    let started = Instant::now();
    let starting = {
        let (dir, config, endpoints) = (pod_dir.clone(), config_text.clone(), endpoints.clone());
        tokio::spawn(async move { SigilDev::start_pod(&dir, &config, &endpoints).await })
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!starting.is_finished(), "the pod became ready without keys");
    // Meanwhile it answers for its JWKS so that no validator caches an empty key set.
    let listen = serving_address(&pod_dir.with_extension("log")).await;
    let jwks = reqwest::get(format!("http://{listen}/.well-known/jwks.json"))
        .await
        .unwrap();
    assert_eq!(jwks.status(), 503);
    assert_eq!(jwks.headers()["cache-control"], "no-store");
    let body: serde_json::Value = jwks.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    assert!(body.get("keys").is_none(), "{body}");
    // A token request that reaches it anyway is told to come back, not that it failed.
    let early = reqwest::Client::new()
        .post(format!("http://{listen}/connect/token"))
        .basic_auth("jwt-client", Some(CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(early.status(), 503);
    assert_eq!(early.headers()["retry-after"], "1");
    let body: serde_json::Value = early.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    let config_path = cluster.dir("keys-config.yaml");
    std::fs::write(&config_path, &config_text).unwrap();
    sigil_keys(&["generate"], &config_path, &[]);
    let pod = starting.await.unwrap().unwrap();
    assert!(started.elapsed() >= Duration::from_secs(3));
    let log = std::fs::read_to_string(pod_dir.with_extension("log")).unwrap();
    assert!(log.contains("no signing keys yet"), "{log}");
    let token = issue_token(&pod, "jwt-client").await;
    let mut validator = CachingValidator::new(&pod);
    validator.validate(&token).await.unwrap();
}

/// The key files in `dir` with the time each records (a sidecar's `created`, a JWK's `iat`).
fn created_times(dir: &Path) -> Vec<(String, u64)> {
    let mut times: Vec<(String, u64)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let json: serde_json::Value =
                serde_json::from_slice(&std::fs::read(dir.join(&name)).ok()?).ok()?;
            let time = json.get("created").or_else(|| json.get("iat"))?.as_u64()?;
            Some((name, time))
        })
        .collect();
    times.sort();
    times
}

/// Rewrites the time recorded in key file `name` (sidecar or JWK).
fn set_created(dir: &Path, name: &str, time: u64) {
    let path = dir.join(name);
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let member = if json.get("created").is_some() {
        "created"
    } else {
        "iat"
    };
    json[member] = time.into();
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The documented daily `rotate --if-due` job must delete what is past retention even on the
/// days it adds nothing, or a retired key stays published until the next rotation.
#[test]
fn rotate_if_due_prunes_keys_past_retention_even_when_no_rotation_is_due() {
    let temp = tempfile::tempdir().unwrap();
    let keys = temp.path().join("keys");
    let config_path = temp.path().join("sigil.yaml");
    std::fs::write(
        &config_path,
        rotation_config(&keys).replace("rotation: 1h", "rotation: 30d"),
    )
    .unwrap();
    sigil_keys(&["generate"], &config_path, &[]);
    let old: Vec<String> = created_times(&keys)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        old.len(),
        2,
        "a key's sidecar and a session secret: {old:?}"
    );
    sigil_keys(&["rotate"], &config_path, &[]);
    let new: Vec<String> = created_times(&keys)
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| !old.contains(name))
        .collect();
    assert_eq!(new.len(), 2, "{new:?}");

    // The old key and secret were replaced two days ago, three days after they were made: far
    // past the 8 s retention. The new ones are two days into a 30-day rotation: none is due.
    const DAY: u64 = 24 * 3600;
    let now = unix_now();
    for name in &old {
        set_created(&keys, name, now - 5 * DAY);
    }
    for name in &new {
        set_created(&keys, name, now - 2 * DAY);
    }
    let listing = sigil_keys(&["list"], &config_path, &[]);
    assert_eq!(listing.matches("removable from").count(), 2, "{listing}");

    let pruned = sigil_keys(&["rotate", "--if-due"], &config_path, &[]);
    assert!(pruned.contains("no rotation due"), "{pruned}");
    let left: Vec<String> = std::fs::read_dir(&keys)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for name in &old {
        let stem = name.trim_end_matches(".json").trim_end_matches(".jwk");
        assert!(
            !left.iter().any(|file| file.starts_with(stem)),
            "{stem} is past retention and still there: {left:?}\n{pruned}"
        );
    }
    for name in &new {
        assert!(left.contains(name), "{name} was removed: {left:?}");
    }
}

/// Two rotations in the same second must not share a file name: the second would replace
/// the first's pending session secret (or key) without a word.
#[test]
fn rotations_in_quick_succession_keep_every_key_and_secret() {
    let temp = tempfile::tempdir().unwrap();
    let keys = temp.path().join("keys");
    let config_path = temp.path().join("sigil.yaml");
    std::fs::write(&config_path, rotation_config(&keys)).unwrap();
    sigil_keys(&["generate"], &config_path, &[]);
    for _ in 0..3 {
        sigil_keys(&["rotate"], &config_path, &[]);
    }
    let json = sigil_keys(&["list", "--json"], &config_path, &[]);
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    let count = |kind: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .filter(|row| row["kind"] == kind)
            .count()
    };
    assert_eq!(count("signing key"), 4, "{json}");
    assert_eq!(count("session secret"), 4, "{json}");
}

/// The chart's install hook runs `sigil keys generate --if-missing` on every install, upgrade
/// and GitOps sync: once keys exist it must succeed and change nothing (no new key, no
/// rewritten file), where a plain `generate` refuses.
#[test]
fn generate_if_missing_keeps_existing_keys_and_succeeds() {
    let temp = tempfile::tempdir().unwrap();
    let keys = temp.path().join("keys");
    let config_path = temp.path().join("sigil.yaml");
    std::fs::write(&config_path, rotation_config(&keys)).unwrap();
    let first = sigil_keys(&["generate", "--if-missing"], &config_path, &[]);
    assert!(first.contains("signing key"), "{first}");
    let contents = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let name = entry.file_name().to_string_lossy().into_owned();
                (name, std::fs::read(entry.path()).unwrap())
            })
            .collect();
        files.sort();
        files
    };
    let before = contents(&keys);

    let plain = std::process::Command::new(sigil_testkit::sigil_binary().unwrap())
        .args(["keys", "generate", "--config"])
        .arg(&config_path)
        .output()
        .unwrap();
    assert!(
        !plain.status.success(),
        "plain generate refuses when keys exist"
    );

    let again = sigil_keys(&["generate", "--if-missing"], &config_path, &[]);
    assert!(!again.contains("signing key"), "{again}");
    assert_eq!(contents(&keys), before, "nothing was written");
}

/// `sigil config check` warns (but accepts) a propagation shorter than common validators
/// need to pick up a new key: panva jose refetches an unknown `kid` only after 30 s.
#[test]
fn config_check_warns_when_propagation_is_shorter_than_validators_need() {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("sigil.yaml");
    std::fs::write(&path, rotation_config(&temp.path().join("keys"))).unwrap();
    let output = std::process::Command::new(sigil_testkit::sigil_binary().unwrap())
        .args(["config", "check"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "a warning is not an error: {stderr}"
    );
    assert!(
        stderr.contains("warning") && stderr.contains("signing.rotation.propagation"),
        "{stderr}"
    );
    assert!(stderr.contains("jose"), "{stderr}");
}
