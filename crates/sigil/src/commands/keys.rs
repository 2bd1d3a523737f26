//! `sigil keys list|generate|rotate`.

use crate::cli::{KeysCommand, KeysTarget};
use crate::config::{Config, KeySourceConfig, SigningConfig};
use crate::wiring::writable_key_source;
use anyhow::{Context as _, bail};
use sigil_keys::maintenance::{expired_files, new_session_secret, new_signing_key, rotation_due};
use sigil_keys::{KeyFileChange, KeyRing, KeyState, Timestamp, parse_key_files};
use std::process::ExitCode;

/// Runs one `sigil keys` command on a fresh runtime.
pub fn run(command: KeysCommand) -> anyhow::Result<ExitCode> {
    super::command_runtime()?.block_on(async move {
        match command {
            KeysCommand::List { target, json } => list(&target, json).await,
            KeysCommand::Generate { target } => generate(&target).await,
            KeysCommand::Rotate { target, if_due } => rotate(&target, if_due).await,
        }
    })
}

fn signing_config(target: &KeysTarget) -> anyhow::Result<SigningConfig> {
    let config = Config::load(&target.config)
        .with_context(|| format!("reading {}", target.config.display()))?;
    if matches!(config.signing.source, KeySourceConfig::Dev {}) {
        bail!(
            "{}: signing.source is `dev`; `sigil keys` works on file and kubernetes sources",
            target.config.display()
        );
    }
    Ok(config.signing)
}

async fn list(target: &KeysTarget, json: bool) -> anyhow::Result<ExitCode> {
    let signing = signing_config(target)?;
    let source = crate::wiring::key_source(&signing).await?;
    let set = source.load().await.context("loading keys")?;
    let now = Timestamp::now();
    let ring = KeyRing::build(set, signing.algorithm, signing.rotation.policy(), now, None)?;
    let rows: Vec<serde_json::Value> = ring
        .states(now)
        .iter()
        .map(|(key, state)| {
            serde_json::json!({
                "kind": "signing key",
                "id": key.kid(),
                "alg": key.alg().as_str(),
                "created": key.created().as_secs(),
                "state": describe(state),
                "remote": key.is_remote(),
            })
        })
        .chain(ring.session_secrets(now).iter().map(|(secret, state)| {
            serde_json::json!({
                "kind": "session secret",
                "id": secret.id(),
                "created": secret.created().as_secs(),
                "state": describe(state),
            })
        }))
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<15} {:<44} {:<6} STATE", "KIND", "ID", "ALG");
    for row in &rows {
        let text = |name: &str| row[name].as_str().unwrap_or("-").to_owned();
        println!(
            "{:<15} {:<44} {:<6} {}",
            text("kind"),
            text("id"),
            text("alg"),
            text("state")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(state: &KeyState) -> String {
    let when = |time: Timestamp| {
        humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(time.as_secs()),
        )
    };
    match state {
        KeyState::Pending { signs_from } => format!("pending, signs from {}", when(*signs_from)),
        KeyState::Active => "active".to_owned(),
        KeyState::Retired {
            since,
            retention_ends,
            held_by_source,
        } => {
            let until = if *held_by_source {
                format!(
                    "published until removed; removable from {}",
                    when(*retention_ends)
                )
            } else {
                format!("published until {}", when(*retention_ends))
            };
            format!("retired since {}, {until}", when(*since))
        }
    }
}

async fn generate(target: &KeysTarget) -> anyhow::Result<ExitCode> {
    let signing = signing_config(target)?;
    let store = writable_key_source(&signing).await?;
    let files = store.files().await.context("reading the key source")?;
    let set = parse_key_files(&files, &store.describe())?;
    let mut change = KeyFileChange::default();
    // Dated one propagation period back: the first key of a new deployment signs at once (no
    // validator can have cached an older one), and its age counts from now.
    let created = Timestamp(
        Timestamp::now()
            .as_secs()
            .saturating_sub(signing.rotation.propagation.as_secs()),
    );
    if !set.signing.iter().any(|key| key.alg() == signing.algorithm) {
        let (kid, key) = new_signing_key(signing.algorithm, created)?;
        println!("signing key {kid} ({}), active at once", signing.algorithm);
        change.write.extend(key.write);
    }
    if set.secrets.is_empty() {
        let (id, secret) = new_session_secret(created)?;
        println!("session secret {id}, active at once");
        change.write.extend(secret.write);
    }
    if change.write.is_empty() {
        eprintln!(
            "{} already holds a {} key and a session secret; use `sigil keys rotate` to add new ones",
            store.describe(),
            signing.algorithm
        );
        return Ok(ExitCode::FAILURE);
    }
    store.apply(change).await.context("writing the new keys")?;
    Ok(ExitCode::SUCCESS)
}

async fn rotate(target: &KeysTarget, if_due: bool) -> anyhow::Result<ExitCode> {
    let signing = signing_config(target)?;
    let policy = signing.rotation.policy();
    let store = writable_key_source(&signing).await?;
    let files = store.files().await.context("reading the key source")?;
    let now = Timestamp::now();
    if if_due && !rotation_due(&files, signing.algorithm, &policy, now) {
        println!("no rotation due");
        return Ok(ExitCode::SUCCESS);
    }
    let (kid, mut change) = new_signing_key(signing.algorithm, now)?;
    let (secret_id, secret) = new_session_secret(now)?;
    change.write.extend(secret.write);
    change.remove = expired_files(&files, &policy, now);
    let signs_from = policy.signs_from(now, Timestamp(0));
    store
        .apply(change.clone())
        .await
        .context("writing the new keys")?;
    println!(
        "added signing key {kid} ({}) and session secret {secret_id}: published now, in use from {}",
        signing.algorithm,
        humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(signs_from.as_secs())
        )
    );
    for name in &change.remove {
        println!("removed {name} (retired beyond its retention)");
    }
    Ok(ExitCode::SUCCESS)
}
