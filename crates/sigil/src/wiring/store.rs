//! The grant store behind the service: embedded (`sigil dev`) or a cluster (`sigil serve`).
//! Whether it answers is watched by [`super::store_probe`], not by readiness.

use anyhow::Context as _;
use sigil_core::store::GrantStore;
use sigil_store::EmbeddedStore;
use sigil_store_client::{ClientOptions, StoreClient};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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

/// An open store: what the core's services use, and what to stop at shutdown.
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
