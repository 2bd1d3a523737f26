//! The `sigil` processes of the tests: finding the built binary, and [`SigilDev`], a `sigil dev`
//! or `sigil serve` pod that is ready when started, reads its JSON log, and stops on drop.

use anyhow::{Context as _, anyhow, bail};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `sigil` binary built by cargo: `$SIGIL_BIN`, or next to the test executable's
/// `deps/` directory (run `cargo build -p sigil` first; `make test` does).
pub fn sigil_binary() -> crate::Result<PathBuf> {
    if let Some(path) = std::env::var_os("SIGIL_BIN") {
        return Ok(PathBuf::from(path));
    }
    let test_exe = std::env::current_exe().context("locating the test executable")?;
    let profile_dir = test_exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| anyhow!("unexpected test executable location {}", test_exe.display()))?;
    let binary = profile_dir.join("sigil");
    if !binary.exists() {
        bail!(
            "{} not found: build it with `cargo build -p sigil` (make test does)",
            binary.display()
        );
    }
    Ok(binary)
}

/// A running `sigil dev` process, or a `sigil serve` pod ([`SigilDev::start_pod`]).
pub struct SigilDev {
    child: Child,
    /// `http://127.0.0.1:PORT`, also the issuer unless the config sets one.
    pub base_url: String,
    /// The data directory (kept after the process stops, for restarts).
    pub data_dir: PathBuf,
    /// Where the process's standard output (the JSON log lines) goes.
    pub log_path: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl SigilDev {
    /// Starts `sigil dev` with a fresh data directory and the given configuration text (or
    /// the demo configuration if `None`).
    pub async fn start(config: Option<&str>) -> crate::Result<Self> {
        let temp = tempfile::tempdir().context("creating a data directory")?;
        let data_dir = temp.path().join("data");
        let mut dev = Self::start_in(&data_dir, config, &[]).await?;
        dev._temp = Some(temp);
        Ok(dev)
    }

    /// Starts `sigil dev` on `data_dir` (created if missing; reused if it exists), with
    /// `config` written next to it, and extra flags.
    pub async fn start_in(
        data_dir: &Path,
        config: Option<&str>,
        extra: &[&str],
    ) -> crate::Result<Self> {
        let (log_path, log) = open_log(data_dir)?;
        let mut command = Command::new(sigil_binary()?);
        command
            .arg("dev")
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env_remove("SIGIL_LISTEN")
            .env_remove("SIGIL_ISSUER")
            .env_remove("SIGIL_CONFIG")
            .env_remove("SIGIL_DATA_DIR")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::piped());
        if let Some(config) = config {
            let config_path = data_dir.with_extension("yaml");
            std::fs::write(&config_path, config)?;
            command.arg("--config").arg(&config_path);
        }
        Self::spawn(command, data_dir, log_path).await
    }

    /// Starts `sigil serve --config <dir>.yaml --store <store>` (a token pod) on a free loopback
    /// port, with `config` written next to `dir` and the log at `<dir>.log`; returns once
    /// `/readyz` says the pod reaches the store. `config` must set `server.issuer`: `sigil
    /// serve` refuses to start without one (pods of one deployment share it).
    pub async fn start_pod(dir: &Path, config: &str, store: &str) -> crate::Result<Self> {
        Self::start_pod_with_env(dir, config, store, &[]).await
    }

    /// [`SigilDev::start_pod`] with extra environment variables (such as `KUBECONFIG`).
    pub async fn start_pod_with_env(
        dir: &Path,
        config: &str,
        store: &str,
        env: &[(&str, &str)],
    ) -> crate::Result<Self> {
        let (log_path, log) = open_log(dir)?;
        let config_path = dir.with_extension("yaml");
        std::fs::write(&config_path, config)?;
        let mut command = Command::new(sigil_binary()?);
        command
            .arg("serve")
            .arg("--config")
            .arg(&config_path)
            .args(["--store", store, "--listen", "127.0.0.1:0"])
            .env_remove("SIGIL_LISTEN")
            .env_remove("SIGIL_ISSUER")
            .env_remove("SIGIL_CONFIG")
            .env_remove("SIGIL_STORE")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(Stdio::piped());
        Self::spawn(command, dir, log_path).await
    }

    /// Spawns a prepared `sigil dev` or `sigil serve` command (standard error piped), reads
    /// the `Listening on` line of its banner and waits until `/readyz` answers 200.
    async fn spawn(
        mut command: Command,
        data_dir: &Path,
        log_path: PathBuf,
    ) -> crate::Result<Self> {
        let mut child = command.spawn().context("starting sigil")?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| anyhow!("no stderr pipe"))?;
        let base_url =
            tokio::task::spawn_blocking(move || read_announced_url(stderr, "Listening on"))
                .await??;
        let dev = Self {
            child,
            base_url,
            data_dir: data_dir.to_owned(),
            log_path,
            _temp: None,
        };
        dev.wait_ready().await?;
        Ok(dev)
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    async fn wait_ready(&self) -> crate::Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(response) = client.get(self.url("/readyz")).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("sigil at {} was not ready within 30s", self.base_url);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the process with SIGTERM and waits for it to exit; returns its exit status.
    pub fn stop(&mut self) -> crate::Result<std::process::ExitStatus> {
        terminate(&mut self.child, "sigil")
    }

    /// Kills the process with SIGKILL (no chance to flush or clean up).
    pub fn kill(&mut self) -> crate::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// The JSON log lines written so far.
    pub fn log_lines(&self) -> crate::Result<Vec<serde_json::Value>> {
        let text = std::fs::read_to_string(&self.log_path)?;
        Ok(text
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect())
    }

    /// Waits (up to 5 s) for a JSON log line whose `event` is `event`, such as an audit event.
    pub async fn wait_for_event(&self, event: &str) -> crate::Result<serde_json::Value> {
        self.wait_for_log(|line| line["event"] == event).await
    }

    /// Waits briefly for a log line matching `predicate` (logs are written asynchronously).
    pub async fn wait_for_log(
        &self,
        predicate: impl Fn(&serde_json::Value) -> bool,
    ) -> crate::Result<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(found) = self.log_lines()?.into_iter().find(|line| predicate(line)) {
                return Ok(found);
            }
            if Instant::now() > deadline {
                bail!("no matching log line in {}", self.log_path.display());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SigilDev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads standard error until a line containing `marker`, returns what follows it (the
/// URL), then keeps draining the pipe in the background so the process never blocks on a
/// full pipe.
/// Creates `data_dir` if missing and opens `<data_dir>.log` for appending a process's
/// standard output; returns the log's path and file.
pub(crate) fn open_log(data_dir: &Path) -> crate::Result<(PathBuf, std::fs::File)> {
    std::fs::create_dir_all(data_dir)?;
    let log_path = data_dir.with_extension("log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)?;
    Ok((log_path, log))
}

/// Sends SIGTERM to `child` and waits up to 20 s for it to exit (then kills it and fails);
/// `what` names it in errors.
pub(crate) fn terminate(
    child: &mut std::process::Child,
    what: &str,
) -> crate::Result<std::process::ExitStatus> {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    if !status.success() {
        bail!("kill -TERM {what} failed");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() > deadline {
            child.kill()?;
            bail!("{what} did not stop within 20s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(crate) fn read_announced_url(
    stderr: std::process::ChildStderr,
    marker: &str,
) -> crate::Result<String> {
    let mut reader = BufReader::new(stderr);
    let mut seen = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            bail!("sigil exited before listening; it printed:\n{seen}");
        }
        seen.push_str(&line);
        if let Some(at) = line.find(marker) {
            let address = line
                .get(at + marker.len()..)
                .unwrap_or("")
                .trim()
                .to_owned();
            std::thread::spawn(move || {
                let mut sink = String::new();
                while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                    eprint!("{sink}");
                    sink.clear();
                }
            });
            return Ok(address);
        }
    }
}
