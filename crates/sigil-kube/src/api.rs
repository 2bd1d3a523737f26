//! The three calls the source makes besides watching — get, create, replace — each bounded
//! by a timeout and with its failure mapped to a [`KeySourceError`].
//!
//! Bounded because the client retries 429/503/504 answers with exponential backoff for
//! minutes, and a refresher must not hang on a struggling API server: it keeps the keys it
//! has and tries again on its timer.

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, PostParams};
use kube::core::Status;
use sigil_keys::KeySourceError;
use std::future::Future;
use std::time::Duration;

/// Secrets in one namespace.
#[derive(Clone)]
pub(crate) struct SecretsApi {
    api: Api<Secret>,
    namespace: String,
    timeout: Duration,
}

impl SecretsApi {
    pub(crate) fn new(client: kube::Client, namespace: &str, timeout: Duration) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            namespace: namespace.to_owned(),
            timeout,
        }
    }

    pub(crate) fn with_timeout(self, timeout: Duration) -> Self {
        Self { timeout, ..self }
    }

    /// The underlying API, for watches.
    pub(crate) fn api(&self) -> &Api<Secret> {
        &self.api
    }

    /// How errors and logs name one Secret.
    pub(crate) fn location(&self, name: &str) -> String {
        location(&self.namespace, name)
    }

    /// The Secret, or `None` if there is none.
    pub(crate) async fn get(&self, name: &str) -> Result<Option<Secret>, KeySourceError> {
        self.bounded(name, self.api.get_opt(name)).await
    }

    /// Creates the Secret; someone else creating it first is a conflict.
    pub(crate) async fn create(
        &self,
        name: &str,
        secret: &Secret,
    ) -> Result<Secret, KeySourceError> {
        let params = PostParams::default();
        self.write(name, self.api.create(&params, secret), |status| {
            status.is_already_exists() || status.code == 409
        })
        .await
    }

    /// Replaces the Secret, guarded by the resourceVersion in `secret`: someone else writing
    /// (or deleting) it since it was read is a conflict.
    pub(crate) async fn replace(
        &self,
        name: &str,
        secret: &Secret,
    ) -> Result<Secret, KeySourceError> {
        let params = PostParams::default();
        self.write(name, self.api.replace(name, &params, secret), |status| {
            status.is_conflict() || status.is_not_found()
        })
        .await
    }

    /// Runs one write under the timeout; an API error that `is_conflict` accepts is a
    /// [`KeySourceError::Conflict`].
    async fn write(
        &self,
        name: &str,
        call: impl Future<Output = Result<Secret, kube::Error>>,
        is_conflict: impl Fn(&Status) -> bool,
    ) -> Result<Secret, KeySourceError> {
        let written = self.bounded(name, async {
            match call.await {
                Err(kube::Error::Api(status)) if is_conflict(&status) => {
                    Ok(Err(KeySourceError::Conflict(self.location(name))))
                }
                other => other.map(Ok),
            }
        });
        written.await?
    }

    /// Runs one call under the timeout; any failure left is the API being unavailable.
    async fn bounded<T>(
        &self,
        name: &str,
        call: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, KeySourceError> {
        let unavailable = |cause: sigil_keys::BoxedCause| KeySourceError::Unavailable {
            source_name: self.location(name),
            cause,
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(unavailable(Box::new(error))),
            Err(_) => Err(unavailable(Box::new(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the Kubernetes API did not answer within {:?}",
                    self.timeout
                ),
            )))),
        }
    }
}

/// `Kubernetes Secret NAMESPACE/NAME`.
pub(crate) fn location(namespace: &str, name: &str) -> String {
    format!("Kubernetes Secret {namespace}/{name}")
}

/// The error for a Secret that does not exist.
pub(crate) fn missing(namespace: &str, name: &str) -> KeySourceError {
    KeySourceError::Io {
        path: location(namespace, name),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("there is no Secret `{name}` in namespace `{namespace}`"),
        ),
    }
}
