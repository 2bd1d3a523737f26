//! Continuous token load against one URL (a pod, or a [`crate::balancer::Balancer`] in front
//! of pods), for tests that change a deployment under load and must account for every
//! request: rolling restarts of token pods or of store nodes.
//!
//! Start with [`Load::start`] and a [`LoadPlan`]: each of `workers` workers repeats, until
//! [`Load::stop`], one client-credentials request for a JWT access token, one for a reference
//! token, and one refresh-token rotation on its own token family (each kind only if the plan
//! names its client). A worker's first refresh token comes from a whole sign-in (authorization
//! code with PKCE, see [`crate::flows`]) before the load starts; after a failed refresh it
//! signs in again, and that sign-in is counted too. Workers either share one keep-alive
//! connection pool, as an application's HTTP client does, or open a new connection for every
//! request (see [`Connections`]): a pod that goes away meets both.
//!
//! [`Load::stop`] lets the requests in flight finish and returns a [`LoadSummary`]: successes
//! per [`Kind`], every [`Failure`] with its status and body (or transport error), and the
//! worst latency seen.

use crate::client::basic;
use crate::flows::{Target, TokenError};
use anyhow::{Context as _, bail};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// A client that gets tokens with `client_credentials` (HTTP Basic authentication).
#[derive(Debug, Clone)]
pub struct ServiceClient {
    /// Its `client_id`.
    pub client_id: String,
    /// Its secret.
    pub secret: String,
    /// The scope it asks for.
    pub scope: String,
}

/// A confidential client that signs a user in and then rotates refresh tokens. It must not
/// require consent, and its scope must include `offline_access`.
#[derive(Debug, Clone)]
pub struct WebClient {
    /// Its `client_id`.
    pub client_id: String,
    /// Its secret.
    pub secret: String,
    /// Its registered redirect URI (never visited: redirects are not followed).
    pub redirect_uri: String,
    /// The scope of the sign-in.
    pub scope: String,
    /// The user who signs in.
    pub username: String,
    /// Their password.
    pub password: String,
}

/// How workers use connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connections {
    /// Every worker shares one keep-alive pool (an application's HTTP client).
    Pooled,
    /// Every request on a new connection (many short-lived clients, or clients that close).
    New,
    /// Half the workers (rounded up) pooled, the others on new connections: both ways a
    /// connection can meet a pod that goes away.
    Mixed,
}

/// What load to send, and where.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// The server's base URL (`http://HOST:PORT`), without a trailing slash.
    pub url: String,
    /// Concurrent workers.
    pub workers: usize,
    /// The client whose tokens are JWTs (`client_credentials`), if any.
    pub jwt: Option<ServiceClient>,
    /// The client whose tokens are reference tokens (`client_credentials`), if any.
    pub reference: Option<ServiceClient>,
    /// The client whose refresh tokens rotate, if any.
    pub refresh: Option<WebClient>,
    /// How long one request may take before it counts as failed.
    pub request_timeout: Duration,
    /// Keep-alive or new connections.
    pub connections: Connections,
}

/// The kind of request a failure or a count is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `client_credentials` for a JWT access token.
    JwtAccessToken,
    /// `client_credentials` for a reference access token.
    ReferenceToken,
    /// `refresh_token` with the refresh token the previous answer returned.
    Refresh,
    /// A whole sign-in, to start a new refresh token family after a failed refresh.
    SignIn,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::JwtAccessToken => "jwt",
            Kind::ReferenceToken => "reference",
            Kind::Refresh => "refresh",
            Kind::SignIn => "sign-in",
        })
    }
}

/// One request that did not succeed.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What was asked.
    pub kind: Kind,
    /// When it started, from the start of the load.
    pub at: Duration,
    /// How long it took to fail.
    pub latency: Duration,
    /// The HTTP status, if an answer came.
    pub status: Option<u16>,
    /// The body (start of it), or the transport error with its causes.
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {:.3}s after {} ms: ",
            self.kind,
            self.at.as_secs_f64(),
            self.latency.as_millis()
        )?;
        match self.status {
            Some(status) => write!(f, "{status} {}", self.detail),
            None => f.write_str(&self.detail),
        }
    }
}

/// What a load run did.
#[derive(Debug, Clone, Default)]
pub struct LoadSummary {
    /// Successful requests per kind.
    pub completed: BTreeMap<Kind, u64>,
    /// Every failed request, in the order they ended.
    pub failures: Vec<Failure>,
    /// The slowest request, failed or not: its kind, start (from the start of the load) and
    /// latency.
    pub worst: Option<(Kind, Duration, Duration)>,
    /// How long the load ran.
    pub elapsed: Duration,
}

impl LoadSummary {
    /// Successful requests of all kinds.
    pub fn total_completed(&self) -> u64 {
        self.completed.values().sum()
    }

    /// The worst latency (zero if nothing was sent).
    pub fn worst_latency(&self) -> Duration {
        self.worst
            .map(|(_, _, latency)| latency)
            .unwrap_or_default()
    }
}

impl fmt::Display for LoadSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts = self
            .completed
            .iter()
            .map(|(kind, n)| format!("{kind} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        write!(
            f,
            "{:.1}s: completed {counts}; failed {}; worst latency {} ms",
            self.elapsed.as_secs_f64(),
            self.failures.len(),
            self.worst_latency().as_millis()
        )?;
        if let Some((kind, at, _)) = self.worst {
            write!(f, " ({kind} at {:.3}s)", at.as_secs_f64())?;
        }
        for failure in self.failures.iter().take(20) {
            write!(f, "\n  {failure}")?;
        }
        if self.failures.len() > 20 {
            write!(f, "\n  … and {} more", self.failures.len() - 20)?;
        }
        Ok(())
    }
}

/// Load running in the background until [`Load::stop`].
pub struct Load {
    stop: watch::Sender<bool>,
    workers: JoinSet<()>,
    record: Arc<Record>,
}

/// What the workers write as they go.
struct Record {
    started: Instant,
    completed: AtomicU64,
    failed: AtomicU64,
    summary: Mutex<LoadSummary>,
}

impl Record {
    fn note(&self, kind: Kind, began: Instant, outcome: Result<(), Failed>) {
        let latency = began.elapsed();
        let at = began.duration_since(self.started);
        let Ok(mut summary) = self.summary.lock() else {
            return;
        };
        if summary.worst.is_none_or(|(_, _, worst)| latency > worst) {
            summary.worst = Some((kind, at, latency));
        }
        match outcome {
            Ok(()) => {
                self.completed.fetch_add(1, Ordering::Relaxed);
                *summary.completed.entry(kind).or_default() += 1;
            }
            Err(failed) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                summary.failures.push(Failure {
                    kind,
                    at,
                    latency,
                    status: failed.status,
                    detail: failed.detail,
                });
            }
        }
    }
}

/// A failure before it is placed in time.
struct Failed {
    status: Option<u16>,
    detail: String,
}

impl From<TokenError> for Failed {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Status { status, body } => Failed {
                status: Some(status),
                detail: body,
            },
            other => Failed {
                status: None,
                detail: format!("{:#}", anyhow::Error::from(other)),
            },
        }
    }
}

impl From<anyhow::Error> for Failed {
    fn from(error: anyhow::Error) -> Self {
        match error.downcast::<TokenError>() {
            Ok(token) => token.into(),
            Err(other) => Failed {
                status: None,
                detail: format!("{other:#}"),
            },
        }
    }
}

/// What one worker does: its clients, and its own refresh token family.
struct Worker {
    target: Arc<Target>,
    jwt: Option<(String, String)>,
    reference: Option<(String, String)>,
    refresh: bool,
    refresh_token: Option<String>,
    record: Arc<Record>,
}

impl Worker {
    async fn run(mut self, stop: watch::Receiver<bool>) {
        let stopped = || *stop.borrow();
        while !stopped() {
            if let Some((auth, scope)) = &self.jwt {
                let began = Instant::now();
                let outcome = self.target.client_credentials_as(auth, scope).await;
                let outcome = outcome.map_err(Failed::from).and_then(|token| {
                    expect(token.split('.').count() == 3, "the access token is no JWT")
                });
                self.record.note(Kind::JwtAccessToken, began, outcome);
            }
            if stopped() {
                break;
            }
            if let Some((auth, scope)) = &self.reference {
                let began = Instant::now();
                let outcome = self.target.client_credentials_as(auth, scope).await;
                let outcome = outcome.map_err(Failed::from).and_then(|token| {
                    expect(!token.contains('.'), "the reference token looks like a JWT")
                });
                self.record.note(Kind::ReferenceToken, began, outcome);
            }
            if stopped() || !self.refresh {
                continue;
            }
            let began = Instant::now();
            match self.refresh_token.take() {
                Some(token) => {
                    let outcome = self.target.refresh(&token).await;
                    let outcome = outcome.map(|next| self.refresh_token = Some(next));
                    self.record
                        .note(Kind::Refresh, began, outcome.map_err(Failed::from));
                }
                // The family may be revoked after a failed refresh: start a new one.
                None => {
                    let outcome = first_refresh_token(&self.target).await;
                    let outcome = outcome.map(|token| self.refresh_token = Some(token));
                    self.record
                        .note(Kind::SignIn, began, outcome.map_err(Failed::from));
                }
            }
        }
    }
}

fn expect(holds: bool, otherwise: &str) -> Result<(), Failed> {
    if holds {
        Ok(())
    } else {
        Err(Failed {
            status: Some(200),
            detail: otherwise.to_owned(),
        })
    }
}

/// The flows' settings for `plan`, sending through `http`.
fn target(plan: &LoadPlan, http: reqwest::Client) -> Target {
    let url = plan.url.trim_end_matches('/').to_owned();
    let web = plan.refresh.as_ref();
    let web_field = |get: fn(&WebClient) -> &String| web.map(get).cloned().unwrap_or_default();
    Target {
        http,
        token_url: format!("{url}/connect/token"),
        base: url,
        service_auth: String::new(),
        service_scope: String::new(),
        web_client_id: web_field(|w| &w.client_id),
        web_auth: web
            .map(|w| basic(&w.client_id, &w.secret))
            .unwrap_or_default(),
        redirect_uri: web_field(|w| &w.redirect_uri),
        sign_in_scope: web_field(|w| &w.scope),
        username: web_field(|w| &w.username),
        password: web_field(|w| &w.password),
    }
}

async fn first_refresh_token(target: &Target) -> crate::Result<String> {
    target
        .sign_in()
        .await?
        .refresh_token
        .context("the sign-in returned no refresh token (offline_access?)")
}

impl Load {
    /// Signs every worker in (if the plan refreshes), then starts the workers. Fails if a
    /// sign-in fails: the deployment must be healthy when the load starts.
    pub async fn start(plan: LoadPlan) -> crate::Result<Self> {
        if plan.workers == 0 {
            bail!("a load needs at least one worker");
        }
        if plan.jwt.is_none() && plan.reference.is_none() && plan.refresh.is_none() {
            bail!("a load needs at least one client");
        }
        let client = |pooled: bool| {
            let builder = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(plan.request_timeout);
            let builder = if pooled {
                builder
            } else {
                builder.pool_max_idle_per_host(0)
            };
            builder.build()
        };
        let pooled = Arc::new(target(&plan, client(true)?));
        let unpooled = Arc::new(target(&plan, client(false)?));
        let web = plan.refresh.clone();

        let mut families = Vec::new();
        if web.is_some() {
            let mut setup = JoinSet::new();
            for _ in 0..plan.workers {
                let target = Arc::clone(&pooled);
                setup.spawn(async move { first_refresh_token(&target).await });
            }
            while let Some(joined) = setup.join_next().await {
                families.push(joined?.context("signing a load worker in")?);
            }
        }

        let record = Arc::new(Record {
            started: Instant::now(),
            completed: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            summary: Mutex::new(LoadSummary::default()),
        });
        let service = |client: &Option<ServiceClient>| {
            client
                .as_ref()
                .map(|c| (basic(&c.client_id, &c.secret), c.scope.clone()))
        };
        let (stop, stopped) = watch::channel(false);
        let mut workers = JoinSet::new();
        for index in 0..plan.workers {
            let reuse = match plan.connections {
                Connections::Pooled => true,
                Connections::New => false,
                Connections::Mixed => index % 2 == 0,
            };
            let worker = Worker {
                target: Arc::clone(if reuse { &pooled } else { &unpooled }),
                jwt: service(&plan.jwt),
                reference: service(&plan.reference),
                refresh: web.is_some(),
                refresh_token: families.pop(),
                record: Arc::clone(&record),
            };
            workers.spawn(worker.run(stopped.clone()));
        }
        Ok(Self {
            stop,
            workers,
            record,
        })
    }

    /// Successful requests so far.
    pub fn completed(&self) -> u64 {
        self.record.completed.load(Ordering::Relaxed)
    }

    /// Failed requests so far.
    pub fn failed(&self) -> u64 {
        self.record.failed.load(Ordering::Relaxed)
    }

    /// Waits until `count` more requests than now have succeeded, for at most `within`: proof
    /// that the load is flowing (for instance after a restart).
    pub async fn wait_for_progress(&self, count: u64, within: Duration) -> crate::Result<()> {
        let goal = self.completed() + count;
        let deadline = Instant::now() + within;
        while self.completed() < goal {
            if Instant::now() > deadline {
                bail!(
                    "the load did not complete {count} requests within {within:?} ({} failed so far)",
                    self.failed()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Stops the workers after the requests they have in flight and returns the summary.
    pub async fn stop(mut self) -> crate::Result<LoadSummary> {
        let _ = self.stop.send(true);
        while let Some(joined) = self.workers.join_next().await {
            joined.context("a load worker panicked")?;
        }
        let mut summary = self
            .record
            .summary
            .lock()
            .map_err(|_| anyhow::anyhow!("the load record is poisoned"))?
            .clone();
        summary.elapsed = self.record.started.elapsed();
        Ok(summary)
    }
}
