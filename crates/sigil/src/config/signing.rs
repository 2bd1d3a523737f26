//! `signing`: where the keys come from (`source`), which algorithms sign, how often they are
//! refreshed and the rotation timings.

use super::Config;
use super::issues::Issues;
use serde::Deserialize;
use sigil_core::model::OPENID;
use sigil_keys::{Algorithm, SigningAlgorithms};
use std::path::PathBuf;
use std::time::Duration;

/// How tokens are signed, and where the keys come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningConfig {
    /// The algorithm access tokens are signed with: `RS256` (default), `PS256`, `ES256` or
    /// `EdDSA`.
    #[serde(default)]
    pub algorithm: Algorithm,
    /// Every algorithm the server signs with, each with its own keys in the source:
    /// `algorithm`, and those ID tokens are signed with. Default: `algorithm`, plus RS256 when
    /// a client signs users in with OpenID Connect (every OpenID provider must support RS256
    /// for ID tokens, OIDC Core §15.1).
    #[serde(default)]
    pub algorithms: Option<Vec<Algorithm>>,
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
            algorithm: Algorithm::default(),
            algorithms: None,
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
        for (name, period) in [
            ("propagation", rotation.propagation),
            ("rotation", rotation.rotation),
            ("retention", rotation.retention),
        ] {
            if period.subsec_nanos() != 0 {
                issues.push(
                    format!("signing.rotation.{name}"),
                    format!(
                        "must be a whole number of seconds: key times are kept in seconds, so {} \
                         cannot be honoured (write {}s)",
                        humantime::format_duration(period),
                        period.as_secs() + 1
                    ),
                );
            }
        }
    }

    /// Warnings about timings that work but that some validators cannot keep up with: a new
    /// key signs `propagation` after it is published, and a pod may see it up to
    /// `refresh_interval` late, so a validator that fetched the JWKS just before that has
    /// `propagation − refresh_interval` to fetch it again. Common validators refetch for an
    /// unknown `kid` only after a cooldown; tokens signed before theirs ends are rejected.
    pub fn warnings(&self) -> Issues {
        let window = self
            .rotation
            .propagation
            .saturating_sub(self.refresh_interval);
        let too_slow: Vec<String> = VALIDATOR_REFETCH_COOLDOWNS
            .iter()
            .filter(|(_, cooldown)| window < *cooldown)
            .map(|(validator, cooldown)| {
                format!("{validator} ({})", humantime::format_duration(*cooldown))
            })
            .collect();
        let mut warnings = Issues::default();
        if too_slow.is_empty() {
            return warnings;
        }
        warnings.push(
            "signing.rotation.propagation",
            format!(
                "leaves validators {} (propagation − refresh_interval) to fetch a new key \
                 before it signs; validators that refetch the JWKS for an unknown kid only \
                 after a cooldown reject tokens signed sooner: {}. See deploy/KEYS.md",
                humantime::format_duration(window),
                too_slow.join(", ")
            ),
        );
        warnings
    }
}

/// How long common validators wait, after fetching a JWKS, before they fetch it again for a
/// token whose `kid` they do not know (their defaults; see deploy/KEYS.md).
const VALIDATOR_REFETCH_COOLDOWNS: [(&str, Duration); 2] = [
    (
        "panva jose createRemoteJWKSet (cooldownDuration)",
        Duration::from_secs(30),
    ),
    (
        "Microsoft.IdentityModel ConfigurationManager (RefreshInterval)",
        Duration::from_secs(5 * 60),
    ),
];

impl Config {
    /// Whether any client may receive ID tokens (it may request the `openid` scope).
    fn uses_openid_connect(&self) -> bool {
        self.clients
            .iter()
            .any(|client| client.scopes.iter().any(|scope| scope == OPENID))
    }

    /// The algorithms the server signs with: `signing.algorithms` as configured, or by default
    /// `signing.algorithm` plus RS256 when clients sign users in with OpenID Connect.
    pub fn signing_algorithms(&self) -> SigningAlgorithms {
        let signing = &self.signing;
        match &signing.algorithms {
            Some(listed) => SigningAlgorithms::new(signing.algorithm, listed.iter().copied()),
            None => {
                let rs256 = self.uses_openid_connect().then_some(Algorithm::RS256);
                SigningAlgorithms::new(signing.algorithm, rs256)
            }
        }
    }

    /// Checks the signing section, and that every algorithm an ID token is signed with has
    /// keys: RS256 whenever OpenID Connect is used, and each client's
    /// `id_token_signed_response_alg`.
    pub(super) fn validate_signing(&self, longest_token_lifetime: Duration, issues: &mut Issues) {
        let signing = &self.signing;
        signing.validate(longest_token_lifetime, issues);
        if let Some(listed) = &signing.algorithms {
            if !listed.contains(&signing.algorithm) {
                issues.push(
                    "signing.algorithms",
                    format!(
                        "must include signing.algorithm ({}), which signs access tokens",
                        signing.algorithm
                    ),
                );
            }
            if self.uses_openid_connect() && !listed.contains(&Algorithm::RS256) {
                issues.push(
                    "signing.algorithms",
                    "must include RS256: clients sign users in with OpenID Connect, and every \
                     OpenID provider must support RS256 for ID tokens (OIDC Core §15.1)",
                );
            }
        }
        let algorithms = self.signing_algorithms();
        for (index, client) in self.clients.iter().enumerate() {
            if let Some(alg) = client.id_token_signed_response_alg {
                if !algorithms.contains(alg) {
                    issues.push(
                        format!("clients[{index}].id_token_signed_response_alg"),
                        format!(
                            "the server has no {alg} keys: signing.algorithms is [{}]; add \
                             {alg} there (and keys for it: `sigil keys generate`)",
                            algorithms
                                .all()
                                .iter()
                                .map(|alg| alg.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Config {
        Config::parse(yaml).unwrap_or_else(|error| panic!("{error}"))
    }

    fn issues(config: &Config) -> Vec<String> {
        Issues::found_by(|issues| config.validate_signing(Duration::ZERO, issues)).lines()
    }

    const OIDC_CLIENT: &str = r#"
clients:
  - client_id: web
    secrets: ["sha256:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"]
    grant_types: [authorization_code]
    redirect_uris: [https://app.test/cb]
    scopes: [openid]
"#;

    #[test]
    fn rs256_is_added_for_id_tokens_when_openid_connect_is_used() {
        let plain = parse("signing: { algorithm: ES256 }");
        assert_eq!(plain.signing_algorithms().all(), [Algorithm::ES256]);
        let oidc = parse(&format!("{OIDC_CLIENT}\nsigning: {{ algorithm: ES256 }}\n"));
        let algorithms = oidc.signing_algorithms();
        assert_eq!(algorithms.all(), [Algorithm::RS256, Algorithm::ES256]);
        assert_eq!(algorithms.access_token(), Algorithm::ES256);
        assert_eq!(issues(&oidc), Vec::<String>::new());
    }

    #[test]
    fn explicit_algorithms_must_cover_access_tokens_rs256_and_every_clients_choice() {
        let config = parse(&format!(
            "{OIDC_CLIENT}    id_token_signed_response_alg: EdDSA\n\
             signing: {{ algorithm: ES256, algorithms: [PS256] }}\n"
        ));
        let found = issues(&config);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("signing.algorithms: must include signing.algorithm (ES256)"));
        assert!(found[1].starts_with("signing.algorithms: must include RS256"));
        assert!(
            found[2].starts_with(
                "clients[0].id_token_signed_response_alg: the server has no EdDSA keys"
            ),
            "{found:?}"
        );
        let fixed = parse(&format!(
            "{OIDC_CLIENT}    id_token_signed_response_alg: EdDSA\n\
             signing: {{ algorithm: ES256, algorithms: [RS256, ES256, EdDSA] }}\n"
        ));
        assert_eq!(issues(&fixed), Vec::<String>::new());
        assert_eq!(
            fixed.signing_algorithms().all(),
            [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA]
        );
    }

    #[test]
    fn rotation_periods_must_be_whole_seconds() {
        let config = parse(
            "signing: { refresh_interval: 100ms, rotation: { propagation: 900ms, rotation: 1h, retention: 1500ms } }",
        );
        let found = issues(&config);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("signing.rotation.propagation: must be a whole number of seconds")
        );
        assert!(found[0].contains("(write 1s)"), "{found:?}");
        assert!(
            found[1].starts_with("signing.rotation.retention"),
            "{found:?}"
        );
    }

    #[test]
    fn a_propagation_shorter_than_validators_refetch_cooldowns_is_warned_about() {
        let at = |propagation: &str| {
            parse(&format!(
                "signing: {{ refresh_interval: 10s, rotation: {{ propagation: {propagation}, rotation: 90d, retention: 7d }} }}"
            ))
            .signing
            .warnings()
            .0
        };
        let short = at("30s");
        assert_eq!(short.len(), 1);
        assert_eq!(short[0].path, "signing.rotation.propagation");
        assert!(
            short[0].message.contains("jose") && short[0].message.contains("Microsoft"),
            "{short:?}"
        );
        let medium = at("1m");
        assert!(
            !medium[0].message.contains("jose") && medium[0].message.contains("Microsoft"),
            "{medium:?}"
        );
        assert!(at("5m10s").is_empty());
        assert!(
            SigningConfig::default().warnings().0.is_empty(),
            "the default 2d is enough"
        );
    }
}
