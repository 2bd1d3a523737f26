//! Building the running service from configuration: keys, grant store, provider, HTTP server.

use crate::config::{Config, KeySourceConfig, server::check_issuer};
use actix_web::{App, HttpServer, middleware, web};
use anyhow::{Context as _, anyhow};
use async_trait::async_trait;
use sigil_core::endpoint::{Provider, ProviderSettings};
use sigil_core::grants::BUILT_IN_GRANT_TYPES;
use sigil_core::handle::GrantKey;
use sigil_core::store::GrantStore;
use sigil_keys::{DevKeySource, FileKeySource, KeySource, SharedKeyRing};
use sigil_server::discovery::DiscoveryInputs;
use sigil_server::metrics::Metrics;
use sigil_server::{AppState, Discovery, EndpointPaths, JwksSource, Readiness};
use sigil_store::EmbeddedStore;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What the service is started from (configuration with overrides applied).
pub struct Settings {
    /// The parsed configuration file.
    pub config: Config,
    /// Where it was read from.
    pub config_path: PathBuf,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Listen address.
    pub listen: SocketAddr,
    /// Issuer from a flag or environment variable (overrides the file).
    pub issuer: Option<String>,
}

/// What the start-up banner reports.
pub struct Summary {
    /// The bound address.
    pub listen: SocketAddr,
    /// The issuer identifier.
    pub issuer: String,
    /// The configuration file.
    pub config_path: PathBuf,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The signing algorithm.
    pub algorithm: String,
    /// The active key's id.
    pub kid: String,
}

/// A started service.
pub struct Service {
    /// For the banner.
    pub summary: Summary,
    server: actix_web::dev::Server,
    store: Arc<EmbeddedStore>,
}

impl Service {
    /// Serves until SIGINT or SIGTERM, then stops the grant store cleanly.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let served = self.server.await.context("HTTP server");
        tracing::info!("shutting down");
        self.store
            .shutdown()
            .await
            .context("stopping the grant store")?;
        served
    }
}

/// Loads keys, opens the store, binds the listener and starts serving.
pub async fn start(settings: Settings) -> anyhow::Result<Service> {
    let Settings {
        config,
        config_path,
        data_dir,
        listen,
        issuer,
    } = settings;
    let catalog = config.validate(BUILT_IN_GRANT_TYPES).map_err(|issues| {
        anyhow!(
            "invalid configuration in {}:\n{issues}",
            config_path.display()
        )
    })?;

    let algorithm = config.signing.algorithm;
    let source: Box<dyn KeySource> = match &config.signing.source {
        KeySourceConfig::Dev {} => Box::new(DevKeySource::new(data_dir.join("keys"), algorithm)),
        KeySourceConfig::File { path } => Box::new(FileKeySource::new(path.clone())),
    };
    let keys = SharedKeyRing::load(source.as_ref(), algorithm)
        .await
        .context("loading signing keys")?;
    let kid = keys.active_kid().context("no active signing key")?;

    let store = Arc::new(
        EmbeddedStore::open(&data_dir.join("store"))
            .await
            .context("opening the embedded grant store")?,
    );

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
        store: store.clone(),
        signer: Arc::new(keys.clone()),
    });
    let discovery = Discovery::new(&DiscoveryInputs {
        issuer: &issuer,
        grant_types: provider.grant_types(),
        scopes: provider.catalog().scope_names(),
        signing_algorithms: vec![algorithm.as_str()],
    })?;
    let state = web::Data::new(AppState {
        provider: Arc::new(provider),
        discovery: Arc::new(discovery),
        jwks: Arc::new(PublishedKeys(keys)),
        readiness: Arc::new(StoreReadiness(store.clone())),
        metrics: Arc::new(Metrics::new()?),
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
    tracing::info!(%issuer, listen = %bound, "serving");

    Ok(Service {
        summary: Summary {
            listen: bound,
            issuer,
            config_path,
            data_dir,
            algorithm: algorithm.as_str().to_owned(),
            kid,
        },
        server,
        store,
    })
}

/// The JWKS of the current key ring.
struct PublishedKeys(SharedKeyRing);

impl JwksSource for PublishedKeys {
    fn jwks_json(&self) -> web::Bytes {
        self.0.jwks_json()
    }
}

/// Ready when the grant store answers a linearizable read (keys were loaded before serving).
struct StoreReadiness(Arc<EmbeddedStore>);

#[async_trait]
impl Readiness for StoreReadiness {
    async fn check(&self) -> Result<(), String> {
        let probe = GrantKey::derived("readiness_probe", &[]);
        match tokio::time::timeout(Duration::from_secs(2), self.0.get(&probe)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err("grant store did not answer within 2s".to_owned()),
        }
    }
}
