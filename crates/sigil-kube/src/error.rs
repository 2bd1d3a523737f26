//! Why a Kubernetes key source could not be set up. (Why it could not load keys is a
//! [`KeySourceError`](sigil_keys::KeySourceError), like every other source's.)

/// Why a [`KubeSecretKeySource`](crate::KubeSecretKeySource) could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The configuration names no Secret.
    #[error("no Secret to read keys from: list at least one under `secrets`")]
    NoSecrets,
    /// The configuration names a Secret twice.
    #[error("the Secret `{0}` is listed twice")]
    DuplicateSecret(String),
    /// A namespace or Secret name the API server would refuse.
    #[error("`{name}` is not a valid {what}: {rule}")]
    InvalidName {
        /// `namespace` or `Secret name`.
        what: &'static str,
        /// The name as configured.
        name: String,
        /// What a valid name looks like.
        rule: &'static str,
    },
    /// Not called from within a Tokio runtime, which the Secret watches run on.
    #[error("the Kubernetes key source must be created inside a Tokio runtime")]
    NoRuntime,
    /// No client configuration was found (no in-cluster service account, no usable
    /// kubeconfig).
    #[error(
        "cannot configure a Kubernetes client: no in-cluster service account and no usable kubeconfig"
    )]
    Client(#[source] kube::Error),
}
