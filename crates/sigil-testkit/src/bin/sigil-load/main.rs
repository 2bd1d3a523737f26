//! `sigil-load`: HTTP load for `make bench` (tests/bench/signin.sh) in three modes, each
//! with the same workers, so that their rates can be compared within one run.
//!
//! ```text
//! sigil-load client-credentials|sign-in|refresh --url http://127.0.0.1:18520 \
//!            [--concurrency 32] [--duration 10] [--warmup 2] [other flags: --help]
//! ```
//!
//! `--concurrency` workers each start their next iteration when the previous one ends, for
//! `--warmup` seconds (not counted) and then `--duration` seconds. One iteration is:
//!
//! - `client-credentials`: one token request with HTTP Basic client authentication;
//! - `sign-in`: a new user's whole authorization code flow with S256 PKCE in a new cookie
//!   jar: the authorization request, the login page, the login form posted, the redirect
//!   back through `/connect/authorize/continue` to the client with a code, and the code
//!   redeemed for tokens, checked for an `id_token` with the nonce sent (five requests; the
//!   client must not require consent);
//! - `refresh`: one `refresh_token` request, always with the refresh token the previous
//!   answer returned (rotation). Each worker first signs in once, not timed, for its own
//!   token family.
//!
//! Prints one JSON line to stdout: mode, completed iterations, errors, iterations per second
//! and p50/p99 latency of an iteration in milliseconds, counting iterations that ended in the
//! measured window. Redirects are never followed by the HTTP client (the redirect URI's host
//! need not exist); all workers share one connection pool, as a load balancer's clients would.

use serde_json::json;
use sigil_testkit::client::basic;
use sigil_testkit::flows::{SIGN_IN_REQUESTS, Target};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Result<T> = anyhow::Result<T>;

const USAGE: &str = "usage: sigil-load client-credentials|sign-in|refresh [flags]
  --url URL                 server base URL (default http://127.0.0.1:8080)
  --concurrency N           workers (default 32)
  --duration S              measured seconds (default 10)
  --warmup S                seconds before measuring, not counted (default 2)
  --timeout S               per-request timeout (default 30)
  --client-id ID            client_credentials client (default bench)
  --client-secret SECRET    (default bench-secret)
  --scope SCOPE             client_credentials scope (default api.read)
  --web-client-id ID        sign-in and refresh client (default bench-web)
  --web-client-secret S     (default bench-secret)
  --redirect-uri URI        (default http://bench.invalid/cb)
  --sign-in-scope SCOPE     (default \"openid profile offline_access api.read\")
  --username NAME           (default bench)
  --users N                 sign in as NAME0 … NAME<N-1>, worker k as NAME<k mod N>, as many
                            people do on a sale day (default 1: everyone is NAME)
  --password PASSWORD       (default bench-password)";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    ClientCredentials,
    SignIn,
    Refresh,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::ClientCredentials => "client-credentials",
            Mode::SignIn => "sign-in",
            Mode::Refresh => "refresh",
        }
    }

    fn requests_per_iteration(self) -> u32 {
        match self {
            Mode::SignIn => SIGN_IN_REQUESTS,
            Mode::ClientCredentials | Mode::Refresh => 1,
        }
    }
}

struct Args {
    mode: Mode,
    url: String,
    concurrency: usize,
    duration: u64,
    warmup: u64,
    timeout: u64,
    client_id: String,
    client_secret: String,
    scope: String,
    web_client_id: String,
    web_client_secret: String,
    redirect_uri: String,
    sign_in_scope: String,
    username: String,
    users: u64,
    password: String,
}

fn parse_args(args: impl Iterator<Item = String>) -> std::result::Result<Args, String> {
    let mut it = args.peekable();
    let mode = match it.next().as_deref() {
        Some("client-credentials") => Mode::ClientCredentials,
        Some("sign-in") => Mode::SignIn,
        Some("refresh") => Mode::Refresh,
        Some(other) => return Err(format!("unknown mode {other:?}")),
        None => return Err("a mode is required".into()),
    };
    let mut args = Args {
        mode,
        url: "http://127.0.0.1:8080".into(),
        concurrency: 32,
        duration: 10,
        warmup: 2,
        timeout: 30,
        client_id: "bench".into(),
        client_secret: "bench-secret".into(),
        scope: "api.read".into(),
        web_client_id: "bench-web".into(),
        web_client_secret: "bench-secret".into(),
        redirect_uri: "http://bench.invalid/cb".into(),
        sign_in_scope: "openid profile offline_access api.read".into(),
        username: "bench".into(),
        users: 1,
        password: "bench-password".into(),
    };
    let number = |flag: &str, value: &str| {
        value
            .parse::<u64>()
            .map_err(|e| format!("{flag} {value:?}: {e}"))
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => args.url = value.trim_end_matches('/').to_owned(),
            "--concurrency" => {
                args.concurrency =
                    usize::try_from(number(&flag, &value)?).map_err(|e| format!("{flag}: {e}"))?;
            }
            "--duration" => args.duration = number(&flag, &value)?,
            "--warmup" => args.warmup = number(&flag, &value)?,
            "--timeout" => args.timeout = number(&flag, &value)?,
            "--client-id" => args.client_id = value,
            "--client-secret" => args.client_secret = value,
            "--scope" => args.scope = value,
            "--web-client-id" => args.web_client_id = value,
            "--web-client-secret" => args.web_client_secret = value,
            "--redirect-uri" => args.redirect_uri = value,
            "--sign-in-scope" => args.sign_in_scope = value,
            "--username" => args.username = value,
            "--users" => args.users = number(&flag, &value)?.max(1),
            "--password" => args.password = value,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if args.concurrency == 0 || args.duration == 0 || args.timeout == 0 {
        return Err("--concurrency, --duration and --timeout must be at least 1".into());
    }
    Ok(args)
}

/// When the measured window starts and ends.
#[derive(Clone, Copy)]
struct Window {
    from: Instant,
    until: Instant,
}

/// What one worker measured in the window.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn record(&mut self, window: Window, began: Instant, outcome: Result<()>) {
        let ended = Instant::now();
        if let Err(error) = &outcome {
            // Failures are shown even outside the window: they explain a bad run.
            if self.first_error.is_none() {
                self.first_error = Some(format!("{error:#}"));
            }
        }
        if ended < window.from {
            return;
        }
        match outcome {
            Ok(()) => self
                .latencies_us
                .push(u64::try_from(ended.duration_since(began).as_micros()).unwrap_or(u64::MAX)),
            Err(_) => self.errors += 1,
        }
    }
}

/// What an iteration was: timed, or the untimed sign-in that replaces a lost refresh token.
enum Step {
    Timed,
    Setup,
}

/// One worker: iterations back to back until the window closes. An iteration still running
/// then is dropped, neither counted nor an error. `refresh_token` starts the refresh mode.
async fn worker(
    target: Arc<Target>,
    mode: Mode,
    window: Window,
    mut refresh_token: Option<String>,
) -> Tally {
    let mut tally = Tally::default();
    let until = tokio::time::Instant::from_std(window.until);
    while Instant::now() < window.until {
        let began = Instant::now();
        let iteration = async {
            match mode {
                Mode::ClientCredentials => {
                    target.client_credentials().await?;
                    Ok(Step::Timed)
                }
                Mode::SignIn => target.sign_in().await.map(|_| Step::Timed),
                Mode::Refresh => match refresh_token.take() {
                    Some(token) => {
                        refresh_token = Some(target.refresh(&token).await?);
                        Ok(Step::Timed)
                    }
                    // After a failure the family may be revoked: sign in again, untimed.
                    None => {
                        refresh_token = Some(first_refresh_token(&target).await?);
                        Ok(Step::Setup)
                    }
                },
            }
        };
        match tokio::time::timeout_at(until, iteration).await {
            Err(_elapsed) => break,
            Ok(Ok(Step::Setup)) => {}
            Ok(outcome) => tally.record(window, began, outcome.map(drop)),
        }
    }
    tally
}

async fn first_refresh_token(target: &Target) -> Result<String> {
    target
        .sign_in()
        .await?
        .refresh_token
        .ok_or_else(|| anyhow::anyhow!("the sign-in returned no refresh token (offline_access?)"))
}

fn percentile_ms(sorted_us: &[u64], percent: usize) -> f64 {
    let Some(last) = sorted_us.len().checked_sub(1) else {
        return 0.0;
    };
    let index = (sorted_us.len() * percent / 100).min(last);
    sorted_us.get(index).copied().unwrap_or(0) as f64 / 1000.0
}

/// Who worker `worker` signs in as: `--username`, or with `--users N` one of N numbered
/// accounts.
fn worker_username(args: &Args, worker: usize) -> String {
    if args.users > 1 {
        format!("{}{}", args.username, worker as u64 % args.users)
    } else {
        args.username.clone()
    }
}

async fn run(args: Args) -> Result<()> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(args.timeout))
        .build()?;
    // One target per worker: they share the connection pool and differ only in who signs in.
    let targets: Vec<Arc<Target>> = (0..args.concurrency)
        .map(|worker| {
            Arc::new(Target {
                http: http.clone(),
                token_url: format!("{}/connect/token", args.url),
                base: args.url.clone(),
                service_auth: basic(&args.client_id, &args.client_secret),
                service_scope: args.scope.clone(),
                web_client_id: args.web_client_id.clone(),
                web_auth: basic(&args.web_client_id, &args.web_client_secret),
                redirect_uri: args.redirect_uri.clone(),
                sign_in_scope: args.sign_in_scope.clone(),
                username: worker_username(&args, worker),
                password: args.password.clone(),
            })
        })
        .collect();

    // A refresh worker starts with its own token family, from a sign-in before the clock
    // starts: a setup failure is a failed run, not a slow one. The sign-ins run one after
    // another: the server refuses a burst of password checks beyond its queue ("retry
    // later"), and the setup is not what is measured.
    let mut tokens = Vec::new();
    if args.mode == Mode::Refresh {
        for target in &targets {
            tokens.push(first_refresh_token(target).await?);
        }
    }

    let started = Instant::now();
    let from = started + Duration::from_secs(args.warmup);
    let window = Window {
        from,
        until: from + Duration::from_secs(args.duration),
    };
    let mut handles = Vec::new();
    for target in &targets {
        handles.push(tokio::spawn(worker(
            Arc::clone(target),
            args.mode,
            window,
            tokens.pop(),
        )));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for handle in handles {
        let tally = handle.await?;
        latencies.extend(tally.latencies_us);
        errors += tally.errors;
        first_error = first_error.or(tally.first_error);
    }
    if let Some(error) = &first_error {
        eprintln!("sigil-load: {}: first error: {error}", args.mode.name());
    }
    latencies.sort_unstable();
    let seconds = window.until.duration_since(window.from).as_secs_f64();
    let completed = latencies.len();
    let line = json!({
        "mode": args.mode.name(),
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "requests_per_iteration": args.mode.requests_per_iteration(),
        "completed": completed,
        "errors": errors,
        "per_second": round2(completed as f64 / seconds),
        "p50_ms": round2(percentile_ms(&latencies, 50)),
        "p99_ms": round2(percentile_ms(&latencies, 99)),
        "first_error": first_error,
    });
    println!("{line}");
    Ok(())
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match parse_args(raw.into_iter()) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("sigil-load: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("sigil-load: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sigil-load: {e:#}");
            ExitCode::FAILURE
        }
    }
}
