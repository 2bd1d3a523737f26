//! # sigil-azure — Sigil's signing keys from Azure Key Vault
//!
//! A [`KeySource`](sigil_keys::KeySource) over one vault, through the official Azure SDK for
//! Rust (`azure_core` 1.x, `azure_identity`, `azure_security_keyvault_*`).
//!
//! **Where to start:** [`AzureConfig`] (the `source: { kind: azure, ... }` section) and
//! [`AzureKeySource::new`]. Each `load` returns every *enabled* version of the configured
//! objects with the vault's `created` / `nbf` / `exp` attributes; the key ring decides which
//! one signs. Rotate by creating a version, retire by disabling one.
//!
//! ## Two ways to sign
//!
//! * **`certificate: NAME`** — each enabled certificate version's private key is read from
//!   the certificate's backing secret (same name and version) and signs locally, at local
//!   speed. The certificate policy must mark the key exportable and set the secret content
//!   type to `application/x-pem-file`: PKCS#12 secrets (Key Vault's default content type) are
//!   refused with an error saying so, as no PKCS#12 parser is built here.
//! * **`key: NAME`** — a (typically non-exportable) key: its public JWK is published, and
//!   every signature is one `sign` call to the vault for that exact key version (RS256,
//!   PS256 or ES256 over the locally computed SHA-256 digest). **Cost: one HTTPS round trip
//!   to the vault per token**, so token latency grows by the vault's round-trip time, and
//!   issuance is capped by Key Vault's throttling: per vault and region, 4,000 "all other"
//!   transactions (sign included) per 10 seconds for RSA 2048 and EC P-256 software keys,
//!   2,000 for HSM keys, 1,000/500 for RSA 3072 and 500/250 for RSA 4096 (Key Vault service
//!   limits, as published), 429 beyond that: about 400 tokens per second per vault for
//!   RSA 2048 software keys, shared by every pod and every other use of the vault.
//!   Measured through the SDK against the loopback double (`examples/sign_latency.rs`, debug
//!   build, 2 cores, 500 sequential signs): RS256 mean 1.0 ms (p99 2.0 ms), ES256 mean
//!   0.3 ms (p99 0.4 ms), the double's own signing included; against a real vault add the
//!   network round trip to it. Certificate mode has none of these costs.
//!
//! A deployment signing with several algorithms (say ES256 access tokens and RS256 ID tokens)
//! lists one object per algorithm under `signing` (see [`AzureConfig`]); each object's versions
//! form that algorithm's chain.
//!
//! `session_secret: NAME` adds the enabled versions of a secret as session secrets: each
//! value is the standard base64 of at least 32 random bytes (`openssl rand -base64 32`).
//!
//! ## Permissions (Azure RBAC role, or the access-policy permissions)
//!
//! | mode | role | access policy |
//! |---|---|---|
//! | `certificate` | Key Vault Certificate User + Key Vault Secrets User | certificates: get, list; secrets: get |
//! | `key` | Key Vault Crypto User | keys: get, list, sign |
//! | `session_secret` | Key Vault Secrets User | secrets: get, list |
//!
//! ## Authentication
//!
//! [`CredentialConfig`]: `workload_identity` (AKS; the default, reading `AZURE_TENANT_ID`,
//! `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_AUTHORITY_HOST`, each overridable),
//! `managed_identity` (system-assigned, or one user-assigned id), or `client_secret` (the
//! secret from a file or an environment variable, never inline). Failures to reach the vault
//! or Entra ID, refused credentials and HTTP errors come back from `load` as
//! `KeySourceError::Unavailable`, naming the vault URL and object; the cause is text from the
//! SDK's error messages and HTTP status only, never tokens, request bodies or secret values.
//!
//! ## Trust
//!
//! The SDK's HTTP client trusts the system roots (on Linux, `SSL_CERT_FILE` / `SSL_CERT_DIR`
//! replace them when set). [`AzureConfig::ca_file`] adds a root on top, for TLS-inspecting
//! proxies and for tests.
//!
//! ## How it is tested
//!
//! Azure itself is not contacted by the tests: they run against local doubles speaking Key
//! Vault's and Entra ID's REST protocols (`sigil_testkit::keyvault`: HTTPS on loopback, the
//! `401` bearer challenge, paged version lists, `sign`, the v2.0 token endpoint), through
//! these same SDK crates. Behaviour of the real service beyond those protocols (RBAC,
//! throttling, HSM-backed keys) is taken from Microsoft's documentation, not tested here.
//!
//! **What it does not contain:** writing to the vault (creating or rotating versions is the
//! operator's, with `az keyvault`), PKCS#12 parsing, and change notifications (Event Grid):
//! the refresher's timer picks up new versions.

mod certificate;
mod config;
mod credential;
mod error;
mod http;
mod key;
mod session_secret;
mod signer;
mod source;
mod vault;

pub use config::{AzureConfig, AzureConfigError, CredentialConfig, SigningEntry, SigningObject};
pub use error::{AzureFailure, AzureSetupError};
pub use source::AzureKeySource;
