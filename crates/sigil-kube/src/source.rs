//! The source itself: construction, and [`KeySource`] (load, changed, describe).

use crate::api::SecretsApi;
use crate::merge::merge_secrets;
use crate::names::{check_namespace, check_secret_name};
use crate::store::LastRead;
use crate::watch::{Watched, Watchers};
use crate::{KubeSourceConfig, SetupError, install_crypto_provider};
use async_trait::async_trait;
use k8s_openapi::api::core::v1::Secret;
use sigil_keys::{KeySet, KeySource, KeySourceError, parse_key_files};
use std::time::Duration;
use tokio::sync::watch;

/// How long one API call may take before the load fails as unavailable.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Signing keys and session secrets from Kubernetes Secrets, watched.
///
/// Each Secret's `data` holds key files in the layout of `sigil_keys::parse_key_files`
/// (`NAME.pem` with an optional `NAME.json` sidecar, `NAME.jwk`); the Secrets' entries are
/// merged, and a file name held by two of them is an error. A background watch per Secret
/// keeps the latest object and wakes [`KeySource::changed`], so a pod picks up a new key
/// without a restart; [`KeySource::load`] answers from the watches when they are connected and
/// have seen every Secret, and otherwise reads the Secrets with GETs.
///
/// The first Secret is the writable one: [`sigil_keys::KeyFileStore`] reads and replaces it.
pub struct KubeSecretKeySource {
    pub(crate) api: SecretsApi,
    pub(crate) namespace: String,
    pub(crate) secrets: Vec<String>,
    watchers: Watchers,
    changes: tokio::sync::Mutex<watch::Receiver<Watched>>,
    /// What [`sigil_keys::KeyFileStore::files`] last read of the writable Secret: the
    /// resourceVersion the next write is guarded by.
    pub(crate) last_read: std::sync::Mutex<Option<LastRead>>,
}

impl KubeSecretKeySource {
    /// Reads (and watches) the Secrets `secrets` in `namespace` through `client`.
    ///
    /// Must be called inside a Tokio runtime: the watches start here.
    pub fn new(
        client: kube::Client,
        namespace: impl Into<String>,
        secrets: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<Self, SetupError> {
        let namespace = namespace.into();
        let secrets: Vec<String> = secrets.into_iter().map(Into::into).collect();
        check_namespace(&namespace)?;
        if secrets.is_empty() {
            return Err(SetupError::NoSecrets);
        }
        for (index, name) in secrets.iter().enumerate() {
            check_secret_name(name)?;
            if secrets.iter().take(index).any(|earlier| earlier == name) {
                return Err(SetupError::DuplicateSecret(name.clone()));
            }
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| SetupError::NoRuntime)?;
        let api = SecretsApi::new(client, &namespace, DEFAULT_REQUEST_TIMEOUT);
        let watchers = Watchers::start(&runtime, &api, &secrets);
        let changes = tokio::sync::Mutex::new(watchers.subscribe());
        Ok(Self {
            api,
            namespace,
            secrets,
            watchers,
            changes,
            last_read: std::sync::Mutex::new(None),
        })
    }

    /// Reads the Secrets `config` names through `client`; the namespace defaults as
    /// [`KubeSourceConfig::resolved_namespace`] says.
    pub fn from_config(
        client: kube::Client,
        config: &KubeSourceConfig,
    ) -> Result<Self, SetupError> {
        Self::new(
            client,
            config.resolved_namespace(),
            config.secrets.iter().cloned(),
        )
    }

    /// Reads the Secrets `config` names with a client configured from the environment, as
    /// `kube::Client::try_default` does: the kubeconfig (`KUBECONFIG` or `~/.kube/config`) if
    /// there is one, else the pod's service account. Installs the aws-lc-rs TLS provider
    /// first ([`install_crypto_provider`]).
    pub async fn from_environment(config: &KubeSourceConfig) -> Result<Self, SetupError> {
        install_crypto_provider();
        let client = kube::Client::try_default()
            .await
            .map_err(SetupError::Client)?;
        Self::from_config(client, config)
    }

    /// Bounds each API call (GET, create, replace) by `timeout` instead of
    /// [`DEFAULT_REQUEST_TIMEOUT`]; past it the call fails as
    /// [`KeySourceError::Unavailable`].
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.api = self.api.with_timeout(timeout);
        self
    }

    /// The namespace of the Secrets.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The Secrets, the writable one first.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// Every Secret by GET, in configuration order.
    async fn fetch_all(&self) -> Result<Vec<Option<Secret>>, KeySourceError> {
        let mut secrets = Vec::with_capacity(self.secrets.len());
        for name in &self.secrets {
            secrets.push(self.api.get(name).await?);
        }
        Ok(secrets)
    }
}

impl std::fmt::Debug for KubeSecretKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeSecretKeySource")
            .field("namespace", &self.namespace)
            .field("secrets", &self.secrets)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl KeySource for KubeSecretKeySource {
    /// Every key and secret in the Secrets; an error if a Secret is missing, if two hold the
    /// same file name, if a file does not parse, or if there is no signing key.
    async fn load(&self) -> Result<KeySet, KeySourceError> {
        let secrets = match self.watchers.current() {
            Some(watched) => watched,
            None => self.fetch_all().await?,
        };
        let files = merge_secrets(&self.namespace, &self.secrets, &secrets)?;
        let keys = parse_key_files(&files, &self.describe())?;
        if keys.signing.is_empty() {
            return Err(KeySourceError::Empty(self.describe()));
        }
        Ok(keys)
    }

    /// Resolves when a watch sees a Secret's data change (or appear, or go), counted from the
    /// last time this resolved.
    async fn changed(&self) {
        let mut changes = self.changes.lock().await;
        if changes.changed().await.is_err() {
            // The watches are gone only when the source is: nothing will change any more.
            std::future::pending::<()>().await;
        }
    }

    /// `Kubernetes Secret NAMESPACE/NAME`, or `Kubernetes Secrets NAMESPACE/{A,B}`.
    fn describe(&self) -> String {
        match self.secrets.as_slice() {
            [one] => self.api.location(one),
            many => format!(
                "Kubernetes Secrets {}/{{{}}}",
                self.namespace,
                many.join(",")
            ),
        }
    }
}
