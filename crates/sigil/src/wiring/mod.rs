//! Building the running service from configuration: keys, grant store, core services, HTTP server.
//!
//! `sigil dev` and `sigil serve` share all of it except the grant store ([`StoreChoice`]):
//! dev embeds a single-node store, serve talks to a `sigil store` cluster. Both stop the same
//! way ([`shutdown`]): drain, stop accepting, finish what is in flight.

mod banner;
mod key_metrics;
mod keys;
mod shutdown;
mod store;
mod store_probe;
#[cfg(test)]
mod tests;

pub use banner::Summary;
pub use keys::{key_source, writable_key_source};
pub use store::{ClusterSettings, StoreChoice};

use crate::config::Config;
use crate::config::server::{ConnectionLimits, ShutdownConfig, check_issuer};
use actix_web::{App, HttpServer, middleware, web};
use anyhow::{Context as _, anyhow};
use sigil_core::context::ServiceSettings;
use sigil_core::endpoint::Services;
use sigil_core::grants::BUILT_IN_GRANT_TYPES;
use sigil_core::users::ConfiguredUsers;
use sigil_server::discovery::DiscoveryInputs;
use sigil_server::metrics::Metrics;
use sigil_server::secret_checks::{CheckLimits, SecretCheckPool};
use sigil_server::{AppState, BodyDeadline, CookiePolicy, Discovery, Drain, EndpointPaths};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What the service is started from (configuration with overrides applied).
pub struct Settings {
    /// The parsed configuration file.
    pub config: Config,
    /// Where it was read from.
    pub config_path: PathBuf,
    /// Listen address.
    pub listen: SocketAddr,
    /// Address of the operations listener (metrics and health), if they get their own.
    pub ops_listen: Option<SocketAddr>,
    /// Issuer from a flag or environment variable (overrides the file); `sigil serve`
    /// always gives one. Without one anywhere, `http://<bound address>` (for `sigil dev`).
    pub issuer: Option<String>,
    /// Which grant store to use.
    pub store: StoreChoice,
}

/// A started service.
pub struct Service {
    /// For the banner.
    pub summary: Summary,
    server: actix_web::dev::Server,
    /// The operations listener's server; it stops when the main one has.
    ops: Option<actix_web::dev::Server>,
    drain: Drain,
    shutdown: ShutdownConfig,
    store: store::OpenedStore,
    _store_probe: store_probe::StoreProbe,
    _keys: keys::LiveKeys,
}

impl Service {
    /// Serves until a stop request arrives on `stops` (from [`shutdown::signals`]), drains and
    /// stops (see [`shutdown`]), then stops the grant store cleanly.
    async fn run_until_stopped(
        self,
        stops: tokio::sync::mpsc::UnboundedReceiver<shutdown::StopRequest>,
    ) -> anyhow::Result<()> {
        // The operations listener (with `/readyz`) keeps answering through the drain.
        let ops = self.ops.map(|server| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let served = shutdown::serve(self.server, &self.drain, &self.shutdown, stops).await;
        tracing::info!("shutting down");
        if let Some((handle, task)) = ops {
            handle.stop(true).await;
            if let Ok(Err(error)) = task.await {
                tracing::warn!(%error, "operations listener");
            }
        }
        self.store.shutdown().await?;
        served
    }
}

/// Starts the service on a new multi-threaded runtime, shows `banner` its summary once it
/// listens, and serves until SIGINT or SIGTERM.
pub fn serve_until_stopped(
    settings: Settings,
    banner: impl FnOnce(&Summary),
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sigil-runtime")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        // Caught from before the start: a SIGTERM while the pod starts drains it like any
        // other instead of killing it with the default action.
        let stops = shutdown::signals()?;
        let service = start(settings).await?;
        banner(&service.summary);
        service.run_until_stopped(stops).await
    })
}

/// Loads keys, opens the store, binds the listener and starts serving.
pub async fn start(settings: Settings) -> anyhow::Result<Service> {
    let Settings {
        config,
        config_path,
        listen,
        ops_listen,
        issuer,
        store,
    } = settings;
    let catalog = config.validate(BUILT_IN_GRANT_TYPES).map_err(|issues| {
        anyhow!(
            "invalid configuration in {}:\n{issues}",
            config_path.display()
        )
    })?;

    let algorithms = config.signing_algorithms();
    let live_keys = keys::start(&config.signing, &algorithms, &store).await?;
    let keys = live_keys.ring.clone();
    let kid = keys
        .active_kid()
        .unwrap_or_else(|| "none loaded yet (retrying; see the log)".to_owned());
    let jwks_max_age = config
        .signing
        .rotation
        .policy()
        .jwks_max_age(config.signing.refresh_interval);
    let store = store::open(store).await?;
    let metrics = Metrics::new()?;
    let store_probe = store_probe::StoreProbe::spawn(
        store.grants.clone(),
        metrics.store_reachable.clone(),
        store_probe::PROBE_PERIOD,
    );

    let listener = TcpListener::bind(listen).with_context(|| format!("binding {listen}"))?;
    let bound = listener.local_addr().context("reading the bound address")?;
    let ops_listener = ops_listen
        .map(|address| TcpListener::bind(address).with_context(|| format!("binding {address}")))
        .transpose()?;
    let ops_bound = ops_listener
        .as_ref()
        .map(TcpListener::local_addr)
        .transpose()
        .context("reading the bound operations address")?;
    let issuer = issuer
        .or(config.server.issuer.clone())
        .unwrap_or_else(|| format!("http://{bound}"));
    check_issuer(&issuer).with_context(|| format!("issuer {issuer}"))?;

    let endpoint = |path: &str| format!("{issuer}{path}");
    // One pool for every argon2id check: passwords, client secrets and API secrets.
    let secret_checks = Arc::new(SecretCheckPool::start(CheckLimits::for_this_machine()));
    let services = Services::new(ServiceSettings {
        issuer: issuer.clone(),
        assertion_audiences: vec![
            endpoint(EndpointPaths::TOKEN),
            endpoint(EndpointPaths::INTROSPECTION),
            endpoint(EndpointPaths::REVOCATION),
        ],
        catalog: Arc::new(catalog),
        store: store.grants.clone(),
        signer: Arc::new(keys.clone()),
        users: Arc::new(ConfiguredUsers::new(
            config.user_accounts(),
            secret_checks.clone(),
        )),
        secret_checks,
        sessions: config.sessions.settings(),
    });
    let discovery = Discovery::new(&DiscoveryInputs {
        issuer: &issuer,
        grant_types: services.tokens.grant_types(),
        scopes: services.catalog().scope_names(),
        signing_algorithms: vec![algorithms.access_token().as_str()],
        id_token_signing_algorithms: algorithms.all().iter().map(|alg| alg.as_str()).collect(),
        claims: services.catalog().claim_names(),
    })?;
    metrics
        .registry()
        .register(Box::new(key_metrics::KeyMetrics::new(keys.clone())?))?;
    let drain = Drain::new();
    let state = web::Data::new(AppState {
        services: Arc::new(services),
        discovery: Arc::new(discovery),
        keys: Arc::new(keys.clone()),
        jwks_max_age,
        drain: drain.clone(),
        metrics: Arc::new(metrics),
        sealer: Arc::new(keys.clone()),
        cookies: CookiePolicy {
            secure: config.sessions.cookie_secure(&issuer),
        },
    });
    let limits = config.server.connections;
    let shutdown = config.server.shutdown;
    let routes: fn(&mut web::ServiceConfig) = if ops_listener.is_some() {
        sigil_server::public_routes
    } else {
        sigil_server::routes
    };
    let server = http_server(&state, &limits, &shutdown, routes, listener)?;
    let ops = ops_listener
        .map(|listener| ops_server(&state, &limits, listener))
        .transpose()?;
    tracing::info!(%issuer, listen = %bound, ops_listen = ?ops_bound, store = %store.description, keys = %live_keys.description, "serving");

    Ok(Service {
        summary: Summary {
            listen: bound,
            ops_listen: ops_bound,
            issuer,
            config_path,
            store: store.description.clone(),
            algorithm: algorithms.to_string(),
            kid,
        },
        server,
        ops,
        drain,
        shutdown,
        store,
        _store_probe: store_probe,
        _keys: live_keys,
    })
}

/// Slow clients are bounded: the head must arrive within `header_timeout`, a body within
/// `body_timeout` (408 and the connection closes), idle connections close after
/// `keep_alive`, and at most `max` are open (actix counts per worker; the rest wait in the
/// kernel's accept queue). Without these, 240 connections trickling a body one byte every
/// 10 s held a file-limited server's every descriptor. Signals are left to [`shutdown`], which
/// drains first; requests in flight at the stop get `shutdown.timeout`.
fn http_server(
    state: &web::Data<AppState>,
    limits: &ConnectionLimits,
    shutdown: &ShutdownConfig,
    routes: fn(&mut web::ServiceConfig),
    listener: TcpListener,
) -> anyhow::Result<actix_web::dev::Server> {
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let state = state.clone();
    let body_deadline = BodyDeadline(limits.body_timeout);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(body_deadline)
            .wrap(middleware::from_fn(sigil_server::cors::cors))
            .wrap(middleware::from_fn(sigil_server::record_latency))
            .wrap(middleware::from_fn(sigil_server::nosniff))
            .wrap(middleware::from_fn(sigil_server::close_when_draining))
            .configure(routes)
    })
    .workers(workers)
    .max_connections(limits.max.div_ceil(workers).max(1))
    .client_request_timeout(limits.header_timeout)
    .client_disconnect_timeout(Duration::from_secs(1))
    .keep_alive(limits.keep_alive)
    .disable_signals()
    .shutdown_timeout(shutdown::actix_timeout(shutdown))
    .listen(listener)?
    .run();
    Ok(server)
}

/// The operations listener: one worker, few connections (Prometheus and the kubelet), and
/// signals left to the main server, which stops it.
fn ops_server(
    state: &web::Data<AppState>,
    limits: &ConnectionLimits,
    listener: TcpListener,
) -> anyhow::Result<actix_web::dev::Server> {
    const OPS_CONNECTIONS: usize = 64;
    let state = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(middleware::from_fn(sigil_server::nosniff))
            .configure(sigil_server::ops_routes)
    })
    .workers(1)
    .max_connections(OPS_CONNECTIONS)
    .client_request_timeout(limits.header_timeout)
    .client_disconnect_timeout(Duration::from_secs(1))
    .keep_alive(limits.keep_alive)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    Ok(server)
}
