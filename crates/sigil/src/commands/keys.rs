//! `sigil keys list|generate|rotate`.

use crate::cli::{KeysCommand, KeysTarget};
use crate::config::{Config, KeySourceConfig, SigningConfig};
use crate::wiring::writable_key_source;
use anyhow::{Context as _, bail};
use sigil_keys::maintenance::{Plan, created_now, plan_generation, plan_rotation};
use sigil_keys::{KeyRing, KeyState, SigningAlgorithms, Timestamp};
use std::process::ExitCode;

/// Runs one `sigil keys` command on a fresh runtime.
pub fn run(command: KeysCommand) -> anyhow::Result<ExitCode> {
    super::command_runtime()?.block_on(async move {
        match command {
            KeysCommand::List { target, json } => list(&target, json).await,
            KeysCommand::Generate { target, if_missing } => generate(&target, if_missing).await,
            KeysCommand::Rotate { target, if_due } => rotate(&target, if_due).await,
        }
    })
}

/// The signing section, and the algorithms it signs with (which depend on the clients).
fn signing_config(target: &KeysTarget) -> anyhow::Result<(SigningConfig, SigningAlgorithms)> {
    let config = Config::load(&target.config)
        .with_context(|| format!("reading {}", target.config.display()))?;
    if matches!(config.signing.source, KeySourceConfig::Dev {}) {
        bail!(
            "{}: signing.source is `dev`; `sigil keys` works on file and kubernetes sources",
            target.config.display()
        );
    }
    let algorithms = config.signing_algorithms();
    Ok((config.signing, algorithms))
}

async fn list(target: &KeysTarget, json: bool) -> anyhow::Result<ExitCode> {
    let (signing, algorithms) = signing_config(target)?;
    let source = crate::wiring::key_source(&signing).await?;
    let set = source.load().await.context("loading keys")?;
    let now = Timestamp::now();
    let ring = KeyRing::build(set, algorithms, signing.rotation.policy(), now, None)?;
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
    let when = rfc3339;
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

/// Adds what is missing; when nothing is, refuses (so a mistyped `generate` for `rotate` is
/// noticed) unless `if_missing`, which makes the run a no-op that succeeds.
async fn generate(target: &KeysTarget, if_missing: bool) -> anyhow::Result<ExitCode> {
    let (signing, algorithms) = signing_config(target)?;
    let store = writable_key_source(&signing).await?;
    let files = store.files().await.context("reading the key source")?;
    let plan = plan_generation(
        &files,
        &store.describe(),
        algorithms.all(),
        &signing.rotation.policy(),
        Timestamp::now(),
    )?;
    if plan.is_empty() {
        eprintln!(
            "{} already holds a key for each of {algorithms} and a session secret; use \
             `sigil keys rotate` to add new ones",
            store.describe()
        );
        return Ok(if if_missing {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    store
        .apply(plan.change.clone())
        .await
        .context("writing the new keys")?;
    report(&plan, Timestamp::now(), Run::Generate);
    Ok(ExitCode::SUCCESS)
}

/// Adds a key per algorithm and a session secret (with `if_due`, only to the chains due for
/// one), and on every run removes what is past retention.
async fn rotate(target: &KeysTarget, if_due: bool) -> anyhow::Result<ExitCode> {
    let (signing, algorithms) = signing_config(target)?;
    let store = writable_key_source(&signing).await?;
    let files = store.files().await.context("reading the key source")?;
    let plan = plan_rotation(
        &files,
        algorithms.all(),
        &signing.rotation.policy(),
        created_now(),
        if_due,
    )?;
    if plan.keys.is_empty() && plan.secret.is_none() {
        println!("no rotation due");
    }
    if !plan.is_empty() {
        store
            .apply(plan.change.clone())
            .await
            .context("writing the new keys")?;
    }
    report(&plan, Timestamp::now(), Run::Rotate);
    Ok(ExitCode::SUCCESS)
}

/// How a run went, for the report.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Run {
    /// `generate`: each key added is the only one of its algorithm.
    Generate,
    /// `rotate`: each key added has a predecessor that signs until it is ready.
    Rotate,
}

/// One line per key and secret added, and per file removed.
fn report(plan: &Plan, now: Timestamp, run: Run) {
    let when = |time: Timestamp| {
        if time <= now {
            "active at once".to_owned()
        } else if run == Run::Generate {
            format!(
                "published now and, as the only one, in use at once although validators that \
                 cached the JWKS before now learn it only when they fetch it again (fully \
                 propagated from {})",
                rfc3339(time)
            )
        } else {
            format!("published now, in use from {}", rfc3339(time))
        }
    };
    for (alg, kid, signs_from) in &plan.keys {
        println!("signing key {kid} ({alg}), {}", when(*signs_from));
    }
    if let Some((id, seals_from)) = &plan.secret {
        println!("session secret {id}, {}", when(*seals_from));
    }
    for name in &plan.change.remove {
        println!("removed {name} (retired beyond its retention)");
    }
}

fn rfc3339(time: Timestamp) -> humantime::Rfc3339Timestamp {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(time.as_secs()),
    )
}
