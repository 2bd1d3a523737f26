//! `sigil-start`: how long a token pod takes from process start to its first `/readyz` 200,
//! for `make bench` (tests/bench/start.sh).
//!
//! ```text
//! sigil-start --sigil target/release/sigil --config pod.yaml --store http://127.0.0.1:18501 \
//!             [--issuer URL] [--runs 20] [--timeout 30]
//! ```
//!
//! Each run starts `sigil serve --config … --store … [--issuer …] --listen 127.0.0.1:PORT` on a
//! free port,
//! polls `GET /readyz` on a new connection every millisecond from the moment it spawned the
//! process, notes when the first 200 came, then stops it with SIGTERM (give the configuration
//! `server.shutdown.drain: 0s` to keep runs short) and waits for it to exit. Prints one JSON
//! line: runs, and the minimum, median and maximum time to ready in milliseconds.

use serde_json::json;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

type Result<T> = anyhow::Result<T>;

const USAGE: &str =
    "usage: sigil-start --sigil BIN --config FILE --store URLS [--runs N] [--timeout S]";

struct Args {
    sigil: PathBuf,
    config: PathBuf,
    store: String,
    issuer: Option<String>,
    runs: usize,
    timeout: Duration,
}

fn parse_args(raw: Vec<String>) -> std::result::Result<Args, String> {
    let (mut sigil, mut config, mut store, mut issuer) = (None, None, None, None);
    let (mut runs, mut timeout) = (20, Duration::from_secs(30));
    let mut it = raw.into_iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--sigil" => sigil = Some(PathBuf::from(value)),
            "--config" => config = Some(PathBuf::from(value)),
            "--store" => store = Some(value),
            "--issuer" => issuer = Some(value),
            "--runs" => runs = value.parse().map_err(|e| format!("--runs: {e}"))?,
            "--timeout" => {
                timeout =
                    Duration::from_secs(value.parse().map_err(|e| format!("--timeout: {e}"))?);
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if runs == 0 {
        return Err("--runs must be at least 1".into());
    }
    Ok(Args {
        sigil: sigil.ok_or("--sigil is required")?,
        config: config.ok_or("--config is required")?,
        store: store.ok_or("--store is required")?,
        issuer,
        runs,
        timeout,
    })
}

/// Whether `GET /readyz` at `addr` answers 200 now (false if refused or anything else).
fn ready(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(100)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let request = b"GET /readyz HTTP/1.1\r\nhost: sigil\r\nconnection: close\r\n\r\n";
    if stream.write_all(request).is_err() {
        return false;
    }
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b"200")
}

/// One start: the time from spawning the process to its first `/readyz` 200.
fn one_start(args: &Args) -> Result<Duration> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let began = Instant::now();
    let mut command = Command::new(&args.sigil);
    command
        .arg("serve")
        .arg("--config")
        .arg(&args.config)
        .args(["--store", &args.store, "--listen", &addr.to_string()]);
    if let Some(issuer) = &args.issuer {
        command.args(["--issuer", issuer]);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let outcome = loop {
        if ready(addr) {
            break Ok(began.elapsed());
        }
        if let Some(status) = child.try_wait()? {
            break Err(anyhow::anyhow!(
                "sigil serve exited with {status} before it was ready"
            ));
        }
        if began.elapsed() > args.timeout {
            break Err(anyhow::anyhow!("not ready within {:?}", args.timeout));
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait()?.is_none() {
        if Instant::now() > deadline {
            child.kill()?;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    outcome
}

fn run(args: &Args) -> Result<()> {
    let mut times = Vec::with_capacity(args.runs);
    for _ in 0..args.runs {
        times.push(one_start(args)?);
    }
    times.sort_unstable();
    let ms = |d: Option<&Duration>| d.map_or(0.0, |d| (d.as_secs_f64() * 10_000.0).round() / 10.0);
    let line = json!({
        "runs": times.len(),
        "min_ms": ms(times.first()),
        "median_ms": ms(times.get(times.len() / 2)),
        "max_ms": ms(times.last()),
    });
    println!("{line}");
    Ok(())
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match parse_args(raw) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("sigil-start: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sigil-start: {e:#}");
            ExitCode::FAILURE
        }
    }
}
