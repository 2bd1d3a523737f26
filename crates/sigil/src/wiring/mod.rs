//! Building the running service from configuration: keys, grant store, provider, HTTP server.
//!
//! `sigil dev` and `sigil serve` share all of it except the grant store ([`StoreChoice`]):
//! dev embeds a single-node store, serve talks to a `sigil store` cluster.

mod banner;
mod key_metrics;
mod keys;
mod store;

pub use banner::Summary;
pub use keys::{key_source, writable_key_source};
pub use store::{ClusterSettings, StoreChoice};

use crate::config::{Config, server::check_issuer};
use actix_web::{App, HttpServer, middleware, web};
use anyhow::{Context as _, anyhow};
use sigil_core::endpoint::{Provider, ProviderSettings};
use sigil_core::grants::BUILT_IN_GRANT_TYPES;
use sigil_keys::SharedKeyRing;
use sigil_server::discovery::DiscoveryInputs;
use sigil_server::metrics::Metrics;
use sigil_server::users::ConfiguredUsers;
use sigil_server::{AppState, CookiePolicy, Discovery, EndpointPaths, Readiness, Sealer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// What the service is started from (configuration with overrides applied).
pub struct Settings {
    /// The parsed configuration file.
    pub config: Config,
    /// Where it was read from.
    pub config_path: PathBuf,
    /// Listen address.
    pub listen: SocketAddr,
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
    store: store::OpenedStore,
    _keys: keys::LiveKeys,
}

impl Service {
    /// Serves until SIGINT or SIGTERM, then stops the grant store cleanly.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let served = self.server.await.context("HTTP server");
        tracing::info!("shutting down");
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
        let service = start(settings).await?;
        banner(&service.summary);
        service.run_until_stopped().await
    })
}

/// Loads keys, opens the store, binds the listener and starts serving.
pub async fn start(settings: Settings) -> anyhow::Result<Service> {
    let Settings {
        config,
        config_path,
        listen,
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

    let listener =
        std::net::TcpListener::bind(listen).with_context(|| format!("binding {listen}"))?;
    let bound = listener.local_addr().context("reading the bound address")?;
    let issuer = issuer
        .or(config.server.issuer.clone())
        .unwrap_or_else(|| format!("http://{bound}"));
    check_issuer(&issuer).map_err(|message| anyhow!("issuer {issuer}: {message}"))?;

    let endpoint = |path: &str| format!("{issuer}{path}");
    let provider = Provider::new(ProviderSettings {
        issuer: issuer.clone(),
        assertion_audiences: vec![
            endpoint(EndpointPaths::TOKEN),
            endpoint(EndpointPaths::INTROSPECTION),
            endpoint(EndpointPaths::REVOCATION),
        ],
        catalog: Arc::new(catalog),
        store: store.grants.clone(),
        signer: Arc::new(keys.clone()),
        users: Arc::new(ConfiguredUsers::new(config.user_accounts())),
        sessions: config.sessions.settings(),
    });
    let discovery = Discovery::new(&DiscoveryInputs {
        issuer: &issuer,
        grant_types: provider.grant_types(),
        scopes: provider.catalog().scope_names(),
        signing_algorithms: vec![algorithms.access_token().as_str()],
        id_token_signing_algorithms: algorithms.all().iter().map(|alg| alg.as_str()).collect(),
        claims: provider.catalog().claim_names(),
    })?;
    let metrics = Metrics::new()?;
    metrics
        .registry()
        .register(Box::new(key_metrics::KeyMetrics::new(keys.clone())?))?;
    let state = web::Data::new(AppState {
        provider: Arc::new(provider),
        discovery: Arc::new(discovery),
        jwks: Arc::new(keys::PublishedKeys {
            ring: keys.clone(),
            max_age: jwks_max_age,
        }),
        readiness: Arc::new(ServiceReadiness {
            keys: keys::KeysReadiness(keys.clone()),
            store: store::StoreReadiness::new(store.grants.clone()),
        }),
        metrics: Arc::new(metrics),
        sealer: Arc::new(SessionSealer(keys.clone())),
        cookies: CookiePolicy {
            secure: config.sessions.cookie_secure(&issuer),
        },
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(middleware::from_fn(sigil_server::record_latency))
            .configure(sigil_server::routes)
    })
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    tracing::info!(%issuer, listen = %bound, store = %store.description, keys = %live_keys.description, "serving");

    Ok(Service {
        summary: Summary {
            listen: bound,
            issuer,
            config_path,
            store: store.description.clone(),
            algorithm: algorithms.to_string(),
            kid,
        },
        server,
        store,
        _keys: live_keys,
    })
}

/// Seals cookies and sign-in state with the key source's current session secret.
struct SessionSealer(SharedKeyRing);

impl Sealer for SessionSealer {
    fn seal(&self, purpose: &str, plaintext: &[u8]) -> Result<String, String> {
        self.0
            .seal(purpose, plaintext)
            .map_err(|error| error.to_string())
    }

    fn open(&self, purpose: &str, sealed: &str) -> Option<Vec<u8>> {
        self.0.open(purpose, sealed).ok()
    }
}

/// Ready when keys were loaded once and the grant store answers.
struct ServiceReadiness {
    keys: keys::KeysReadiness,
    store: store::StoreReadiness,
}

#[async_trait::async_trait]
impl Readiness for ServiceReadiness {
    async fn check(&self) -> Result<(), String> {
        self.keys.check()?;
        self.store.check().await
    }
}
