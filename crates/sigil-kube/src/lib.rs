//! # sigil-kube — signing keys from Kubernetes Secrets
//!
//! A [`KeySource`](sigil_keys::KeySource) that reads Sigil's key files (the layout of
//! `sigil_keys::parse_key_files`: `NAME.pem` + optional `NAME.json`, `NAME.jwk`) from the
//! `data` of one or more Secrets, merges them, and watches them, so every pod picks up a
//! rotated key without a restart.
//!
//! **Where to start:** [`KubeSecretKeySource`]. Build it from configuration with
//! [`KubeSecretKeySource::from_environment`] (kubeconfig if there is one, else the pod's
//! service account) and a [`KubeSourceConfig`], the `source: { kind: kubernetes, namespace,
//! secrets }` block of Sigil's YAML; or from a [`kube::Client`] with
//! [`KubeSecretKeySource::new`]. It also
//! implements [`KeyFileStore`](sigil_keys::KeyFileStore) on its first Secret, which is what
//! `sigil keys generate|rotate` writes: one replace guarded by the resourceVersion read
//! (a lost race is [`KeySourceError::Conflict`](sigil_keys::KeySourceError::Conflict)), or a
//! create if the Secret does not exist yet.
//!
//! ## TLS
//!
//! The client uses rustls with aws-lc-rs only. Keep kube's default features off (they add
//! `ring`, and rustls panics when it cannot pick between two providers), and call
//! [`install_crypto_provider`] before building a `kube::Client` yourself.
//!
//! ## RBAC
//!
//! The pod's service account needs `get`, `list` and `watch` on the named Secrets (list and
//! watch are filtered with `fieldSelector=metadata.name=NAME`, which `resourceNames` can
//! authorize); whoever runs `sigil keys generate|rotate` also needs `update` on the first
//! Secret, and `create` on Secrets to bootstrap it (`create` cannot be limited by name):
//!
//! ```yaml
//! apiVersion: rbac.authorization.k8s.io/v1
//! kind: Role
//! metadata: { name: sigil-keys-reader, namespace: sigil }
//! rules:
//!   - apiGroups: [""]
//!     resources: [secrets]
//!     resourceNames: [sigil-keys]
//!     verbs: [get, list, watch]          # add `update` for the CLI
//!   # - apiGroups: [""]                  # the CLI's first `generate` only
//!   #   resources: [secrets]
//!   #   verbs: [create]
//! ```
//!
//! ## Tests
//!
//! Kubernetes is tested against a local double speaking its REST protocol
//! (`sigil_testkit::kube_api::FakeKubeApi`: get, list, watch, create, replace, outages), with
//! the real `kube` client on top; no test contacts a cluster.
//!
//! **What it does not contain:** key parsing and the key ring (`sigil-keys`), the refresher
//! that calls [`KeySource::load`](sigil_keys::KeySource::load) (Sigil's server), and any
//! other Kubernetes resource: a mounted Secret volume is the file source's business.

mod api;
mod config;
mod crypto;
mod error;
mod merge;
mod names;
mod source;
mod store;
mod watch;

pub use config::{KubeSourceConfig, POD_NAMESPACE_FILE};
pub use crypto::install_crypto_provider;
pub use error::SetupError;
pub use source::{DEFAULT_REQUEST_TIMEOUT, KubeSecretKeySource};
