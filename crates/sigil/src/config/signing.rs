use super::issues::Issues;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// How tokens are signed, and where the keys come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningConfig {
    /// `RS256` (default), `PS256`, `ES256` or `EdDSA`.
    #[serde(default)]
    pub algorithm: sigil_keys::Algorithm,
    /// Where the keys (and the session secret) come from.
    #[serde(default)]
    pub source: KeySourceConfig,
    /// When keys are published, sign and are withdrawn.
    #[serde(default)]
    pub rotation: RotationConfig,
    /// How often the source is read again, besides change notifications. Default 60s.
    #[serde(default = "default_refresh_interval", with = "humantime_serde")]
    pub refresh_interval: Duration,
}

impl Default for SigningConfig {
    fn default() -> Self {
        Self {
            algorithm: sigil_keys::Algorithm::default(),
            source: KeySourceConfig::default(),
            rotation: RotationConfig::default(),
            refresh_interval: default_refresh_interval(),
        }
    }
}

impl SigningConfig {
    /// Checks the timings against each other and against `longest_token_lifetime`.
    pub(super) fn validate(&self, longest_token_lifetime: Duration, issues: &mut Issues) {
        if self.refresh_interval.is_zero() {
            issues.push("signing.refresh_interval", "must be longer than zero");
        }
        let rotation = &self.rotation;
        if rotation.propagation <= self.refresh_interval {
            issues.push(
                "signing.rotation.propagation",
                "must be longer than signing.refresh_interval, or a pod may sign with a key \
                 that validators have not been able to fetch",
            );
        }
        if rotation.retention < longest_token_lifetime {
            issues.push(
                "signing.rotation.retention",
                format!(
                    "must be at least the longest access token lifetime ({}), or tokens \
                     outlive the key that verifies them",
                    humantime::format_duration(longest_token_lifetime)
                ),
            );
        }
        if rotation.rotation <= rotation.propagation {
            issues.push(
                "signing.rotation.rotation",
                "must be longer than signing.rotation.propagation",
            );
        }
    }
}

fn default_refresh_interval() -> Duration {
    Duration::from_secs(60)
}

/// The rotation policy (see `sigil_keys::RotationPolicy`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotationConfig {
    /// How long a new key is published before it signs: at least the longest time any API
    /// caches the JWKS. Default 2d.
    #[serde(with = "humantime_serde")]
    pub propagation: Duration,
    /// How long a key signs before `sigil keys rotate --if-due` replaces it. Default 90d.
    #[serde(with = "humantime_serde")]
    pub rotation: Duration,
    /// How long a retired key stays published: at least the longest token lifetime. Default 7d.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
}

impl Default for RotationConfig {
    fn default() -> Self {
        let policy = sigil_keys::RotationPolicy::default();
        Self {
            propagation: policy.propagation,
            rotation: policy.rotation,
            retention: policy.retention,
        }
    }
}

impl RotationConfig {
    /// As the key ring takes it.
    pub fn policy(&self) -> sigil_keys::RotationPolicy {
        sigil_keys::RotationPolicy {
            propagation: self.propagation,
            rotation: self.rotation,
            retention: self.retention,
        }
    }
}

/// Where signing keys come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum KeySourceConfig {
    /// Generated once under `<data_dir>/keys` and reused: for development only.
    // A struct variant, so that unknown fields next to `kind: dev` are rejected too.
    Dev {},
    /// A directory of key files (PEM with `<name>.json` metadata, or JWK), watched for changes.
    File {
        /// The directory.
        path: PathBuf,
    },
    /// Kubernetes Secrets in the key-file layout, watched (see deploy/keys/kubernetes.md).
    Kubernetes(sigil_kube::KubeSourceConfig),
    /// Azure Key Vault: certificate versions signed with locally, or a key that signs in the
    /// vault (see the `sigil-azure` crate and deploy/keys/azure.md).
    Azure(Box<sigil_azure::AzureConfig>),
}

impl Default for KeySourceConfig {
    fn default() -> Self {
        Self::Dev {}
    }
}
