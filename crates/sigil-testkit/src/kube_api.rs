//! A Kubernetes API server double for core/v1 Secrets, on loopback.
//!
//! [`FakeKubeApi`] speaks the real REST protocol, so the real `kube` client runs against it
//! unchanged (plain HTTP, no authentication): get, list (with
//! `fieldSelector=metadata.name=NAME`), watch (`watch=1`, `resourceVersion`,
//! `allowWatchBookmarks`, `timeoutSeconds`; newline-delimited `ADDED`/`MODIFIED`/`DELETED`/
//! `BOOKMARK` events), create (409 `AlreadyExists`) and replace (409 `Conflict` when the
//! `resourceVersion` sent is not the stored one). Errors are `kind: Status` objects, and
//! every write bumps one resourceVersion counter, as in etcd.
//!
//! The test side writes and reads Secrets directly ([`FakeKubeApi::set_secret`],
//! [`FakeKubeApi::secret_data`]), simulates an outage ([`FakeKubeApi::set_available`]), and
//! reads the request log ([`FakeKubeApi::requests`]).
//!
//! Not here: other resources, label selectors, authentication, TLS, paging, and compaction
//! (a watch may start from any resourceVersion, never 410 Gone). The double stores JSON and
//! shares no code with the client it tests.

mod routes;
mod server;
mod status;
mod store;
mod watch;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use store::{Store, resource_version_of};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A Kubernetes API server for Secrets, listening on `127.0.0.1`. Stops when dropped.
pub struct FakeKubeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    available: tokio::sync::watch::Sender<bool>,
    accept: JoinHandle<()>,
}

/// One request the double received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    /// `GET`, `PUT`, `POST`…
    pub method: String,
    /// The path, such as `/api/v1/namespaces/default/secrets/sigil-keys`.
    pub path: String,
    /// The raw query string, empty if there was none.
    pub query: String,
}

impl ApiRequest {
    /// True for a watch (`watch=1` or `watch=true`).
    pub fn is_watch(&self) -> bool {
        form_urlencoded::parse(self.query.as_bytes())
            .any(|(name, value)| name == "watch" && (value == "1" || value == "true"))
    }
}

/// What the routes share: the Secrets and the request log.
pub(crate) struct Shared {
    store: Store,
    requests: Mutex<Vec<ApiRequest>>,
}

impl Shared {
    fn record(&self, request: ApiRequest) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
    }
}

impl FakeKubeApi {
    /// Listens on `127.0.0.1:0` with no Secrets.
    pub async fn start() -> crate::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            store: Store::new(),
            requests: Mutex::new(Vec::new()),
        });
        let router = routes::router(Arc::clone(&shared)).layer(
            axum::middleware::from_fn_with_state(Arc::clone(&shared), server::log_request),
        );
        let (available, up) = tokio::sync::watch::channel(true);
        let accept = tokio::spawn(server::accept_loop(listener, router, up));
        Ok(Self {
            addr,
            shared,
            available,
            accept,
        })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the cluster URL for a client configuration.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Creates or replaces the Opaque Secret `namespace/name` with `data` (watches see
    /// `ADDED` or `MODIFIED`). Returns its new resourceVersion.
    pub fn set_secret(
        &self,
        namespace: &str,
        name: &str,
        data: BTreeMap<String, Vec<u8>>,
    ) -> String {
        let data: Map<String, Value> = data
            .into_iter()
            .map(|(key, bytes)| (key, STANDARD.encode(bytes).into()))
            .collect();
        let object = json!({
            "kind": "Secret",
            "apiVersion": "v1",
            "metadata": {},
            "type": "Opaque",
            "data": data,
        });
        let key = (namespace.to_owned(), name.to_owned());
        let stored = self.shared.store.upsert(key, object);
        resource_version_of(&stored).unwrap_or_default().to_owned()
    }

    /// Deletes the Secret (watches see `DELETED`); false if there was none.
    pub fn delete_secret(&self, namespace: &str, name: &str) -> bool {
        let key = (namespace.to_owned(), name.to_owned());
        self.shared.store.delete(&key).is_some()
    }

    /// The stored Secret object, as a GET would return it.
    pub fn secret(&self, namespace: &str, name: &str) -> Option<Value> {
        self.shared
            .store
            .get(&(namespace.to_owned(), name.to_owned()))
    }

    /// The Secret's `data`, decoded; entries that are not base64 are left out (the double
    /// refuses to store them).
    pub fn secret_data(&self, namespace: &str, name: &str) -> Option<BTreeMap<String, Vec<u8>>> {
        let secret = self.secret(namespace, name)?;
        let data = secret
            .get("data")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        Some(
            data.into_iter()
                .filter_map(|(key, value)| Some((key, STANDARD.decode(value.as_str()?).ok()?)))
                .collect(),
        )
    }

    /// The Secret's resourceVersion.
    pub fn resource_version(&self, namespace: &str, name: &str) -> Option<String> {
        let secret = self.secret(namespace, name)?;
        resource_version_of(&secret).map(str::to_owned)
    }

    /// `false` starts an outage: every open connection (watches too) is closed, and new ones
    /// are closed as soon as they are accepted. `true` ends it. Stored Secrets are kept, and
    /// can be changed during the outage.
    pub fn set_available(&self, available: bool) {
        self.available.send_replace(available);
    }

    /// Whether the double answers requests.
    pub fn is_available(&self) -> bool {
        *self.available.borrow()
    }

    /// Every request answered so far, oldest first (not those closed during an outage).
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many requests so far had this method and path.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|request| request.method == method && request.path == path)
            .count()
    }
}

impl Drop for FakeKubeApi {
    fn drop(&mut self) {
        // Closes the open connections, then stops accepting.
        self.available.send_replace(false);
        self.accept.abort();
    }
}

#[cfg(test)]
mod tests;
