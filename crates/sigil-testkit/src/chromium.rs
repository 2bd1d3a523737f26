//! Headless Chromium for tests that need a real browser (CORS, cookies, WebCrypto), driven by
//! a Node script with `playwright-core`.
//!
//! `make tools` installs both: Debian's `chromium` and `playwright-core` (pinned in
//! `tests/browser/package.json`) into `tests/browser/node_modules`. Nothing here skips: a
//! missing browser, Node or library is an error that says how to install it, and a script
//! that fails or hangs fails the test with what it wrote.

use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian's `chromium` package puts the browser.
const DEBIAN_CHROMIUM: &str = "/usr/bin/chromium";

/// How to get what is missing.
const INSTALL_HINT: &str = "run `make tools` (installs Debian's chromium and playwright-core)";

/// The Chromium binary: `$CHROMIUM`, else Debian's.
pub fn chromium_binary() -> crate::Result<PathBuf> {
    let path =
        std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from(DEBIAN_CHROMIUM), PathBuf::from);
    if !path.is_file() {
        bail!("no Chromium at {}: {INSTALL_HINT}", path.display());
    }
    Ok(path)
}

/// Runs the Node module `script` (which imports `playwright-core` from the `node_modules`
/// beside it) with `env` and `CHROMIUM` set, and returns the JSON object it prints last on
/// standard output. Fails if it exits unsuccessfully or runs longer than `timeout`.
pub async fn run_script(
    script: &Path,
    env: &[(&str, &str)],
    timeout: Duration,
) -> crate::Result<serde_json::Value> {
    let script = script.to_owned();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    tokio::task::spawn_blocking(move || run_blocking(&script, &env, timeout)).await?
}

fn run_blocking(
    script: &Path,
    env: &[(String, String)],
    timeout: Duration,
) -> crate::Result<serde_json::Value> {
    let chromium = chromium_binary()?;
    let library = script
        .parent()
        .unwrap_or(Path::new("."))
        .join("node_modules/playwright-core");
    if !library.is_dir() {
        bail!(
            "no playwright-core at {}: {INSTALL_HINT}",
            library.display()
        );
    }
    let output = tempfile::tempdir().context("creating a directory for the script's output")?;
    let stdout_path = output.path().join("stdout");
    let stderr_path = output.path().join("stderr");
    let mut child = Command::new("node")
        .arg(script)
        .envs(env.iter().map(|(name, value)| (name, value)))
        .env("CHROMIUM", &chromium)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path)?)
        .stderr(std::fs::File::create(&stderr_path)?)
        .spawn()
        .with_context(|| format!("starting `node {}` (is Node installed?)", script.display()))?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() > deadline {
            stop(&mut child);
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    match status {
        None => bail!(
            "{} ran longer than {timeout:?}; it wrote:\n{stderr}\n{stdout}",
            script.display()
        ),
        Some(status) if !status.success() => {
            bail!(
                "{} failed ({status}):\n{stderr}\n{stdout}",
                script.display()
            )
        }
        Some(_) => {}
    }
    let last = stdout.lines().rev().find(|line| !line.trim().is_empty());
    let Some(last) = last else {
        bail!("{} printed nothing; it wrote:\n{stderr}", script.display());
    };
    serde_json::from_str(last)
        .with_context(|| format!("{} printed no JSON object: {last}", script.display()))
}

/// SIGTERM first, so that the script's browser library closes Chromium (which runs in its
/// own process group), then SIGKILL.
fn stop(child: &mut std::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
