//! The `source: { kind: azure, ... }` section of Sigil's configuration.
//!
//! ```yaml
//! source:
//!   kind: azure
//!   vault_url: https://my-vault.vault.azure.net
//!   certificate: sigil-signing        # or  key: sigil-signing
//!   session_secret: sigil-session     # optional
//!   credential: { type: workload_identity }
//! ```
//!
//! A deployment that signs with several algorithms (ES256 access tokens, RS256 ID tokens)
//! names one object per algorithm instead of `certificate` / `key` / `alg`:
//!
//! ```yaml
//!   signing:
//!     - { certificate: sigil-es256 }
//!     - { key: sigil-rsa, alg: RS256 }
//! ```

use azure_core::http::Url;
use serde::Deserialize;
use sigil_keys::Algorithm;
use std::path::PathBuf;

/// Where in Key Vault the keys are, and how to authenticate. See the crate docs for the
/// permissions each part needs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawConfig")]
pub struct AzureConfig {
    /// The vault, such as `https://my-vault.vault.azure.net/`.
    pub vault_url: Url,
    /// The certificates or keys that sign, at least one, each with its algorithm.
    pub signing: Vec<SigningEntry>,
    /// A secret whose enabled versions are the session secrets (value: standard base64 of at
    /// least 32 random bytes).
    pub session_secret: Option<String>,
    /// How to get tokens for the vault.
    pub credential: CredentialConfig,
    /// An extra root CA (PEM) to trust besides the system's, for TLS-inspecting proxies and
    /// for tests against a local double.
    pub ca_file: Option<PathBuf>,
    /// Retries of a failed vault or token request (429, 5xx, connection errors), with
    /// exponential back-off from 200 ms. Default 3.
    pub max_retries: u32,
    /// Whether the resource in the vault's authentication challenge must be a parent domain
    /// of the vault's host (the SDK's guard against a look-alike vault harvesting tokens).
    /// Default true; a vault double on `127.0.0.1` needs false.
    pub verify_challenge_resource: bool,
}

/// One Key Vault object that signs, and the algorithm its versions sign with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningEntry {
    /// The certificate or key.
    pub object: SigningObject,
    /// `RS256` (default for RSA) or `PS256` on RSA keys, `ES256` (default for P-256) on EC
    /// keys.
    pub alg: Option<Algorithm>,
}

/// The Key Vault object that signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigningObject {
    /// A certificate (`certificate: NAME`): every enabled version's private key is read from
    /// its backing secret and signs locally.
    Certificate(String),
    /// A key (`key: NAME`), usually non-exportable: signing calls the vault's `sign`
    /// operation for the exact key version, once per token.
    Key(String),
}

impl SigningObject {
    /// The object's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Certificate(name) | Self::Key(name) => name,
        }
    }
}

/// How the source authenticates to Entra ID. `authority_host` (where offered) overrides
/// `AZURE_AUTHORITY_HOST`, which defaults to `https://login.microsoftonline.com`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CredentialConfig {
    /// AKS workload identity: a federated service account token exchanged for an Entra
    /// token. Unset fields come from the environment the AKS webhook injects:
    /// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE`,
    /// `AZURE_AUTHORITY_HOST`.
    WorkloadIdentity {
        /// Overrides `AZURE_TENANT_ID`.
        #[serde(default)]
        tenant_id: Option<String>,
        /// Overrides `AZURE_CLIENT_ID`.
        #[serde(default)]
        client_id: Option<String>,
        /// Overrides `AZURE_FEDERATED_TOKEN_FILE`.
        #[serde(default)]
        token_file: Option<PathBuf>,
        /// Overrides `AZURE_AUTHORITY_HOST`.
        #[serde(default)]
        authority_host: Option<String>,
    },
    /// A managed identity: system-assigned, or the user-assigned one named by at most one
    /// of the ids. The endpoint is the platform's (App Service's `IDENTITY_ENDPOINT`, else
    /// the VM instance metadata service).
    ManagedIdentity {
        /// A user-assigned identity's client id.
        #[serde(default)]
        client_id: Option<String>,
        /// A user-assigned identity's object (principal) id.
        #[serde(default)]
        object_id: Option<String>,
        /// A user-assigned identity's Azure resource id.
        #[serde(default)]
        resource_id: Option<String>,
    },
    /// An app registration's client secret, read from a file or an environment variable
    /// (exactly one), never written in the configuration itself.
    ClientSecret {
        /// The tenant.
        tenant_id: String,
        /// The application (client) id.
        client_id: String,
        /// A file holding the secret (trailing newline ignored).
        #[serde(default)]
        secret_file: Option<PathBuf>,
        /// An environment variable holding the secret.
        #[serde(default)]
        secret_env: Option<String>,
        /// Overrides `AZURE_AUTHORITY_HOST`.
        #[serde(default)]
        authority_host: Option<String>,
    },
}

impl Default for CredentialConfig {
    /// Workload identity with everything from the environment.
    fn default() -> Self {
        Self::WorkloadIdentity {
            tenant_id: None,
            client_id: None,
            token_file: None,
            authority_host: None,
        }
    }
}

/// The configuration as written, before the checks that need more than one field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    vault_url: String,
    #[serde(default)]
    certificate: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    alg: Option<Algorithm>,
    #[serde(default)]
    signing: Option<Vec<RawEntry>>,
    #[serde(default)]
    session_secret: Option<String>,
    #[serde(default)]
    credential: CredentialConfig,
    #[serde(default)]
    ca_file: Option<PathBuf>,
    #[serde(default = "default_max_retries")]
    max_retries: u32,
    #[serde(default = "default_true")]
    verify_challenge_resource: bool,
}

/// One item of `signing`, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    #[serde(default)]
    certificate: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    alg: Option<Algorithm>,
}

impl RawEntry {
    fn entry(self) -> Result<SigningEntry, AzureConfigError> {
        let object = match (self.certificate, self.key) {
            (Some(name), None) => SigningObject::Certificate(name),
            (None, Some(name)) => SigningObject::Key(name),
            _ => return Err(AzureConfigError::CertificateOrKey),
        };
        if object.name().is_empty() {
            return Err(AzureConfigError::EmptyName);
        }
        Ok(SigningEntry {
            object,
            alg: self.alg,
        })
    }
}

fn default_max_retries() -> u32 {
    3
}

fn default_true() -> bool {
    true
}

/// Why a Key Vault source configuration is refused. Serde reports it by its message, so
/// each message names what to change.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AzureConfigError {
    /// `vault_url` does not parse.
    #[error("vault_url `{url}` is not a URL: {source}")]
    VaultUrl {
        /// As written.
        url: String,
        /// Why it does not parse.
        #[source]
        source: url::ParseError,
    },
    /// `vault_url` is not https.
    #[error("vault_url `{0}` must use https")]
    NotHttps(Url),
    /// A signing entry names both or neither.
    #[error("set exactly one of `certificate` and `key`")]
    CertificateOrKey,
    /// An empty object name.
    #[error("Key Vault object names must not be empty")]
    EmptyName,
    /// Both ways of naming the signing objects at once.
    #[error(
        "name the signing objects either with `certificate` / `key` / `alg` or with a \
         `signing` list, not both"
    )]
    SingleAndList,
    /// An empty `signing` list.
    #[error("`signing` needs at least one certificate or key")]
    EmptyList,
    /// More than one managed identity selector.
    #[error("managed_identity takes at most one of client_id, object_id, resource_id")]
    ManagedIdentity,
    /// Both or neither of the client secret's places.
    #[error("client_secret takes exactly one of secret_file and secret_env")]
    ClientSecret,
}

impl TryFrom<RawConfig> for AzureConfig {
    type Error = AzureConfigError;

    fn try_from(raw: RawConfig) -> Result<Self, AzureConfigError> {
        let vault_url =
            Url::parse(&raw.vault_url).map_err(|source| AzureConfigError::VaultUrl {
                url: raw.vault_url.clone(),
                source,
            })?;
        if vault_url.scheme() != "https" {
            return Err(AzureConfigError::NotHttps(vault_url));
        }
        let single = RawEntry {
            certificate: raw.certificate,
            key: raw.key,
            alg: raw.alg,
        };
        let signing = match raw.signing {
            None => vec![single.entry()?],
            Some(entries) => {
                if single.certificate.is_some() || single.key.is_some() || single.alg.is_some() {
                    return Err(AzureConfigError::SingleAndList);
                }
                if entries.is_empty() {
                    return Err(AzureConfigError::EmptyList);
                }
                entries
                    .into_iter()
                    .map(RawEntry::entry)
                    .collect::<Result<_, _>>()?
            }
        };
        if raw.session_secret.as_deref() == Some("") {
            return Err(AzureConfigError::EmptyName);
        }
        match &raw.credential {
            CredentialConfig::ManagedIdentity {
                client_id,
                object_id,
                resource_id,
            } if [client_id, object_id, resource_id]
                .iter()
                .filter(|id| id.is_some())
                .count()
                > 1 =>
            {
                return Err(AzureConfigError::ManagedIdentity);
            }
            CredentialConfig::ClientSecret {
                secret_file,
                secret_env,
                ..
            } if secret_file.is_some() == secret_env.is_some() => {
                return Err(AzureConfigError::ClientSecret);
            }
            _ => {}
        }
        Ok(Self {
            vault_url,
            signing,
            session_secret: raw.session_secret,
            credential: raw.credential,
            ca_file: raw.ca_file,
            max_retries: raw.max_retries,
            verify_challenge_resource: raw.verify_challenge_resource,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn parse(value: Value) -> Result<AzureConfig, serde_json::Error> {
        serde_json::from_value(value)
    }

    #[test]
    fn the_smallest_configuration_uses_workload_identity_from_the_environment() {
        let config = parse(json!({ "vault_url": "https://v.vault.azure.net", "certificate": "c" }));
        let config = config.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            config.signing,
            [SigningEntry {
                object: SigningObject::Certificate("c".into()),
                alg: None
            }]
        );
        assert_eq!(config.credential, CredentialConfig::default());
        assert_eq!(config.max_retries, 3);
        assert!(config.verify_challenge_resource);
        assert_eq!(config.session_secret, None);
    }

    #[test]
    fn it_embeds_under_an_internally_tagged_kind() {
        // As the server's `source: { kind: azure, ... }` enum holds it.
        #[derive(Debug, Deserialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        enum Source {
            Azure(AzureConfig),
        }
        let source: Result<Source, _> = serde_json::from_value(
            json!({ "kind": "azure", "vault_url": "https://v.vault.azure.net", "key": "k" }),
        );
        assert!(matches!(
            source,
            Ok(Source::Azure(AzureConfig { ref signing, .. }))
                if matches!(signing.as_slice(), [SigningEntry { object: SigningObject::Key(_), .. }])
        ));
        let typo: Result<Source, _> = serde_json::from_value(
            json!({ "kind": "azure", "vault_url": "https://v.vault.azure.net", "key": "k", "kee": 1 }),
        );
        assert!(typo.is_err());
    }

    #[test]
    fn every_credential_kind_parses() {
        let with = |credential: Value| {
            parse(
                json!({ "vault_url": "https://v.vault.azure.net", "key": "k", "credential": credential }),
            )
        };
        assert!(matches!(
            with(json!({ "type": "managed_identity", "resource_id": "/subscriptions/x" })),
            Ok(AzureConfig {
                credential: CredentialConfig::ManagedIdentity {
                    resource_id: Some(_),
                    ..
                },
                ..
            })
        ));
        assert!(matches!(
            with(json!({ "type": "managed_identity" })),
            Ok(AzureConfig {
                credential: CredentialConfig::ManagedIdentity {
                    client_id: None,
                    object_id: None,
                    resource_id: None
                },
                ..
            })
        ));
        assert!(matches!(
            with(
                json!({ "type": "client_secret", "tenant_id": "t", "client_id": "c", "secret_env": "S" })
            ),
            Ok(AzureConfig {
                credential: CredentialConfig::ClientSecret { .. },
                ..
            })
        ));
        assert!(matches!(
            with(
                json!({ "type": "workload_identity", "client_id": "c", "token_file": "/var/run/t" })
            ),
            Ok(AzureConfig {
                credential: CredentialConfig::WorkloadIdentity {
                    client_id: Some(_),
                    ..
                },
                ..
            })
        ));
    }

    #[test]
    fn several_objects_sign_side_by_side() {
        let config = parse(json!({
            "vault_url": "https://v.vault.azure.net",
            "signing": [{ "certificate": "ec" }, { "key": "rsa", "alg": "PS256" }],
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            config.signing,
            [
                SigningEntry {
                    object: SigningObject::Certificate("ec".into()),
                    alg: None
                },
                SigningEntry {
                    object: SigningObject::Key("rsa".into()),
                    alg: Some(Algorithm::PS256)
                },
            ]
        );
    }

    #[test]
    fn mistakes_are_refused_with_a_reason() {
        let refused = |value: Value, needle: &str| {
            let error = parse(value)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                error.contains(needle),
                "`{error}` should mention `{needle}`"
            );
        };
        let url = "https://v.vault.azure.net";
        refused(
            json!({ "vault_url": url }),
            "exactly one of `certificate` and `key`",
        );
        refused(
            json!({ "vault_url": url, "certificate": "c", "key": "k" }),
            "exactly one",
        );
        refused(
            json!({ "vault_url": "http://v.vault.azure.net", "key": "k" }),
            "https",
        );
        refused(
            json!({ "vault_url": url, "key": "k", "keyname": "x" }),
            "unknown field",
        );
        refused(
            json!({ "vault_url": url, "key": "k", "credential": { "type": "client_secret",
                "tenant_id": "t", "client_id": "c", "secret": "inline" } }),
            "unknown field",
        );
        refused(
            json!({ "vault_url": url, "key": "k", "credential": { "type": "client_secret",
                "tenant_id": "t", "client_id": "c" } }),
            "exactly one of secret_file and secret_env",
        );
        refused(
            json!({ "vault_url": url, "key": "k", "credential": { "type": "managed_identity",
                "client_id": "a", "object_id": "b" } }),
            "at most one",
        );
        refused(
            json!({ "vault_url": url, "key": "k", "credential": { "type": "certificate" } }),
            "unknown variant",
        );
        refused(
            json!({ "vault_url": url, "key": "k", "alg": "HS256" }),
            "HS256",
        );
        refused(
            json!({ "vault_url": url, "key": "k", "signing": [{ "key": "j" }] }),
            "not both",
        );
        refused(json!({ "vault_url": url, "signing": [] }), "at least one");
        refused(
            json!({ "vault_url": url, "signing": [{ "alg": "ES256" }] }),
            "exactly one",
        );
    }
}
