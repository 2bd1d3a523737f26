//! The configuration of a Kubernetes key source, as it appears in Sigil's YAML.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// Where a pod's service account token mount says which namespace the pod runs in.
pub const POD_NAMESPACE_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/// Which Secrets hold the keys.
///
/// Meant to be embedded in Sigil's configuration under a `kind` tag:
///
/// ```yaml
/// source:
///   kind: kubernetes
///   namespace: sigil          # optional: defaults to the pod's namespace
///   secrets: [sigil-keys, sigil-session-secrets]
/// ```
///
/// The first Secret is the one `sigil keys generate|rotate` writes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubeSourceConfig {
    /// The namespace of the Secrets. When absent: the pod's own namespace (read from
    /// [`POD_NAMESPACE_FILE`]), or `default` outside a pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The Secrets, at least one; their entries are merged into one set of key files.
    pub secrets: Vec<String>,
}

impl KubeSourceConfig {
    /// Reads these Secrets in the pod's namespace.
    pub fn new(secrets: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            namespace: None,
            secrets: secrets.into_iter().map(Into::into).collect(),
        }
    }

    /// Reads the Secrets in `namespace`.
    pub fn in_namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// The configured namespace, else the pod's, else `default`.
    pub fn resolved_namespace(&self) -> String {
        self.resolved_namespace_with(Path::new(POD_NAMESPACE_FILE))
    }

    /// As [`Self::resolved_namespace`], reading the pod's namespace from `pod_namespace_file`.
    pub fn resolved_namespace_with(&self, pod_namespace_file: &Path) -> String {
        if let Some(namespace) = &self.namespace {
            return namespace.clone();
        }
        std::fs::read_to_string(pod_namespace_file)
            .ok()
            .map(|text| text.trim().to_owned())
            .filter(|namespace| !namespace.is_empty())
            .unwrap_or_else(|| "default".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How Sigil's configuration embeds it: a `kind`-tagged source.
    #[derive(Debug, Deserialize)]
    #[serde(tag = "kind", rename_all = "lowercase")]
    enum Source {
        Kubernetes(KubeSourceConfig),
    }

    fn parse(yaml: &str) -> Result<KubeSourceConfig, serde_yaml::Error> {
        serde_yaml::from_str::<Source>(yaml).map(|Source::Kubernetes(config)| config)
    }

    #[test]
    fn embeds_under_a_kind_tag() {
        let config = parse("{ kind: kubernetes, namespace: sigil, secrets: [a, b] }").unwrap();
        assert_eq!(
            config,
            KubeSourceConfig::new(["a", "b"]).in_namespace("sigil")
        );
        let config = parse("kind: kubernetes\nsecrets: [a]\n").unwrap();
        assert_eq!(config.namespace, None);
    }

    #[test]
    fn unknown_and_missing_fields_are_refused() {
        let error = parse("{ kind: kubernetes, secrets: [a], secret: b }").unwrap_err();
        assert!(
            error.to_string().contains("unknown field `secret`"),
            "{error}"
        );
        assert!(parse("{ kind: kubernetes, namespace: sigil }").is_err());
    }

    #[test]
    fn the_namespace_defaults_to_the_pods_then_to_default() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("namespace");
        let config = KubeSourceConfig::new(["a"]);
        assert_eq!(config.resolved_namespace_with(&file), "default");
        std::fs::write(&file, "sigil-prod\n").unwrap();
        assert_eq!(config.resolved_namespace_with(&file), "sigil-prod");
        let config = config.in_namespace("elsewhere");
        assert_eq!(config.resolved_namespace_with(&file), "elsewhere");
    }
}
