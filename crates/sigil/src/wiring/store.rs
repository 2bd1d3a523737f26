//! The grant store behind the service: embedded (`sigil dev`) or a cluster (`sigil serve`),
//! and the readiness check that asks it.

use anyhow::Context as _;
use async_trait::async_trait;
use sigil_core::handle::GrantKey;
use sigil_core::store::GrantStore;
use sigil_server::Readiness;
use sigil_store::EmbeddedStore;
use sigil_store_client::{ClientOptions, StoreClient};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which grant store the service uses.
pub enum StoreChoice {
    /// A single-node store in this process, under `<data_dir>/store` (keys under
    /// `<data_dir>/keys` when the `dev` key source is used).
    Embedded {
        /// The data directory.
        data_dir: PathBuf,
    },
    /// A `sigil store` cluster reached over gRPC.
    Cluster(ClusterSettings),
}

/// Where the store cluster is and how long to wait for it.
pub struct ClusterSettings {
    /// The store nodes' URLs (`http://host:port`); any subset that includes a live node will
    /// do, the client finds the leader.
    pub endpoints: Vec<String>,
    /// How long one store call may take, retries included.
    pub request_timeout: Duration,
}

/// An open store: what the provider uses, and what to stop at shutdown.
pub struct OpenedStore {
    /// The store the protocol uses.
    pub grants: Arc<dyn GrantStore>,
    /// For the banner and logs.
    pub description: String,
    embedded: Option<Arc<EmbeddedStore>>,
}

impl OpenedStore {
    /// Stops an embedded store cleanly (a cluster client has nothing to stop).
    pub async fn shutdown(self) -> anyhow::Result<()> {
        if let Some(embedded) = self.embedded {
            embedded
                .shutdown()
                .await
                .context("stopping the grant store")?;
        }
        Ok(())
    }
}

/// Opens the embedded store, or creates the cluster client (which connects lazily, so the
/// service starts even while the cluster is still electing a leader).
pub async fn open(choice: StoreChoice) -> anyhow::Result<OpenedStore> {
    match choice {
        StoreChoice::Embedded { data_dir } => {
            let path = data_dir.join("store");
            let store = Arc::new(
                EmbeddedStore::open(&path)
                    .await
                    .context("opening the embedded grant store")?,
            );
            Ok(OpenedStore {
                grants: store.clone(),
                description: format!("embedded, in {}", path.display()),
                embedded: Some(store),
            })
        }
        StoreChoice::Cluster(settings) => {
            let options = ClientOptions::default().with_request_timeout(settings.request_timeout);
            let description = format!("cluster {}", settings.endpoints.join(", "));
            let client = StoreClient::connect(settings.endpoints, options)
                .context("configuring the grant store client")?;
            Ok(OpenedStore {
                grants: Arc::new(client),
                description,
                embedded: None,
            })
        }
    }
}

/// How long a successful probe counts: probes of a ready store are at most this frequent,
/// however often `/readyz` is polled.
const FRESH_FOR: Duration = Duration::from_secs(3);
/// How long one probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Ready when the grant store answered a linearizable read recently (keys were loaded before
/// serving). Checked lazily, when `/readyz` is asked; one probe at a time.
pub struct StoreReadiness {
    store: Arc<dyn GrantStore>,
    last_success: tokio::sync::Mutex<Option<Instant>>,
}

impl StoreReadiness {
    /// Probes `store` when asked.
    pub fn new(store: Arc<dyn GrantStore>) -> Self {
        Self {
            store,
            last_success: tokio::sync::Mutex::new(None),
        }
    }
}

#[async_trait]
impl Readiness for StoreReadiness {
    async fn check(&self) -> Result<(), String> {
        // Held across the probe, so concurrent checks share one probe instead of piling up.
        let mut last_success = self.last_success.lock().await;
        if last_success.is_some_and(|at| at.elapsed() < FRESH_FOR) {
            return Ok(());
        }
        let probe = GrantKey::derived("readiness_probe", &[]);
        match tokio::time::timeout(PROBE_TIMEOUT, self.store.get(&probe)).await {
            Ok(Ok(_)) => {
                *last_success = Some(Instant::now());
                Ok(())
            }
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!(
                "grant store did not answer within {}s",
                PROBE_TIMEOUT.as_secs()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigil_core::store::{
        ConsumeOutcome, Grant, PutOutcome, RevokeTarget, RotateOutcome, Rotation, StoreError,
        Throttle, ThrottleOutcome,
    };
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Answers `get` (counting calls) while `up`; everything else is unused.
    #[derive(Default)]
    struct Probed {
        up: AtomicBool,
        gets: AtomicUsize,
    }

    fn unused<T>() -> Result<T, StoreError> {
        Err(StoreError::Internal("unused".to_owned()))
    }

    #[async_trait]
    impl GrantStore for Probed {
        async fn put(&self, _: Grant) -> Result<PutOutcome, StoreError> {
            unused()
        }
        async fn get(&self, _: &GrantKey) -> Result<Option<Grant>, StoreError> {
            self.gets.fetch_add(1, Ordering::SeqCst);
            if self.up.load(Ordering::SeqCst) {
                Ok(None)
            } else {
                Err(StoreError::Unavailable("no leader".to_owned()))
            }
        }
        async fn consume(&self, _: &GrantKey) -> Result<ConsumeOutcome, StoreError> {
            unused()
        }
        async fn revoke(&self, _: RevokeTarget) -> Result<u64, StoreError> {
            unused()
        }
        async fn rotate(&self, _: Rotation) -> Result<RotateOutcome, StoreError> {
            unused()
        }
        async fn list_by_subject(&self, _: &str) -> Result<Vec<Grant>, StoreError> {
            unused()
        }
        async fn throttle(&self, _: Throttle) -> Result<ThrottleOutcome, StoreError> {
            unused()
        }
    }

    #[tokio::test]
    async fn ready_only_after_the_store_answered_and_probed_at_most_once_per_window() {
        let store = Arc::new(Probed::default());
        let readiness = StoreReadiness::new(store.clone());
        let error = readiness.check().await.unwrap_err();
        assert!(error.contains("no leader"), "{error}");
        // A failure is not cached: the next check probes again.
        store.up.store(true, Ordering::SeqCst);
        assert_eq!(readiness.check().await, Ok(()));
        assert_eq!(store.gets.load(Ordering::SeqCst), 2);
        // Within the freshness window, checks do not reach the store.
        for _ in 0..10 {
            assert_eq!(readiness.check().await, Ok(()));
        }
        assert_eq!(store.gets.load(Ordering::SeqCst), 2);
    }
}
