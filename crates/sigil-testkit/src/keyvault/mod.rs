//! A local double of Azure Key Vault and Entra ID, for testing Sigil's Azure key source through
//! the real Azure SDK clients.
//!
//! [`KeyVaultDouble::start`] serves HTTPS on `127.0.0.1:0` with a certificate from a fresh
//! test CA ([`KeyVaultDouble::ca_file`] is what clients must trust). It speaks Key Vault's REST
//! protocol (any `api-version`; the SDK sends `2025-07-01`) for the operations Sigil uses:
//! certificate, key and secret version lists (paged, with `nextLink`), get certificate / key /
//! secret version, and `sign` over a SHA-256 digest. Unauthenticated vault requests get Key
//! Vault's `401` with `WWW-Authenticate: Bearer authorization="<authority>/<tenant>",
//! resource="https://vault.azure.net"`, so the SDK's challenge policy runs as in production.
//!
//! The same server is the Entra ID authority ([`KeyVaultDouble::authority_host`]):
//! `POST /{tenant}/oauth2/v2.0/token` accepts client credentials with a client secret
//! ([`KeyVaultDouble::register_client_secret`]) or a client assertion, as workload identity
//! sends the projected service account token ([`KeyVaultDouble::register_federated_token`]),
//! and `GET /msi/token` speaks the App Service managed identity protocol that
//! `IDENTITY_ENDPOINT` / `IDENTITY_HEADER` point the SDK at. The vault accepts exactly the
//! access tokens these endpoints issued.
//!
//! Test-side controls: add certificate / key / secret versions with chosen attributes, disable
//! a version, an outage switch (every request answers 503), and [`Counters`].
//!
//! Not here: anything else Key Vault does (create, import, delete, policies, HSM attestation),
//! and real token validation (tokens are opaque strings; federated tokens are compared
//! verbatim, not verified against an OIDC issuer). Nothing here contacts any address but
//! loopback.

mod crypto;
mod entra;
mod server;
mod state;
mod tls;
mod vault;

use anyhow::Context as _;
use crypto::{Material, pem_block};
use serde_json::Value;
use state::{CertificateVersion, KeyVersion, SecretVersion, Shared, Version};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The resource (audience) Key Vault's challenge names and tokens are requested for.
pub const VAULT_RESOURCE: &str = "https://vault.azure.net";

/// Content type of a PEM certificate's backing secret.
pub const PEM_CONTENT_TYPE: &str = "application/x-pem-file";

/// Content type of a PKCS#12 certificate's backing secret (Key Vault's default).
pub const PKCS12_CONTENT_TYPE: &str = "application/x-pkcs12";

/// The type of key a version holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA, 2048 bits (Key Vault `kty: RSA`).
    Rsa2048,
    /// ECDSA on P-256 (Key Vault `kty: EC`, `crv: P-256`).
    EcP256,
}

/// A version's attributes, as Key Vault reports them (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionSpec {
    /// `attributes.enabled`.
    pub enabled: bool,
    /// `attributes.created` (also reported as `updated`).
    pub created: u64,
    /// `attributes.nbf`.
    pub not_before: Option<u64>,
    /// `attributes.exp`.
    pub expires: Option<u64>,
}

impl VersionSpec {
    /// An enabled version created at `created`, with no `nbf` or `exp`.
    pub fn created_at(created: u64) -> Self {
        Self {
            enabled: true,
            created,
            not_before: None,
            expires: None,
        }
    }

    /// The same, disabled.
    pub fn disabled(self) -> Self {
        Self {
            enabled: false,
            ..self
        }
    }

    /// The same, with `nbf`.
    pub fn not_before(self, not_before: u64) -> Self {
        Self {
            not_before: Some(not_before),
            ..self
        }
    }

    /// The same, with `exp`.
    pub fn expires(self, expires: u64) -> Self {
        Self {
            expires: Some(expires),
            ..self
        }
    }
}

/// How a certificate version's backing secret is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretFormat {
    /// `application/x-pem-file`: the PKCS#8 private key, then the certificate.
    Pem,
    /// `application/x-pkcs12` content type. The value is a placeholder (the base64 DER of the
    /// certificate), not a real PFX: the double exists to test what a client does on seeing
    /// the content type.
    Pkcs12,
}

/// A version the double created.
#[derive(Debug, Clone)]
pub struct AddedVersion {
    /// The version id (32 hex digits).
    pub version: String,
    /// The key's public JWK (`kty` and public members), for checking signatures. `Null` for
    /// secrets.
    pub public_jwk: Value,
}

/// What kind of vault object a name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A certificate (disabling one also disables its backing key and secret, as in Key Vault).
    Certificate,
    /// A key.
    Key,
    /// A secret.
    Secret,
}

/// Request counts since start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// `sign` operations received (including refused ones).
    pub sign_calls: u64,
    /// Requests to the token endpoint and the managed identity endpoint.
    pub token_requests: u64,
    /// Vault requests answered with the `401` bearer challenge.
    pub challenges: u64,
    /// Vault requests of any kind.
    pub vault_requests: u64,
}

/// The running double. Stops when dropped.
pub struct KeyVaultDouble {
    shared: Arc<Shared>,
    ca_pem: String,
    ca_file: PathBuf,
    _dir: tempfile::TempDir,
    server: JoinHandle<()>,
}

impl KeyVaultDouble {
    /// Starts the double on a free loopback port.
    pub async fn start() -> crate::Result<Self> {
        let tls = tls::test_tls()?;
        let dir = tempfile::tempdir().context("creating the double's directory")?;
        let ca_file = dir.path().join("keyvault-double-ca.pem");
        std::fs::write(&ca_file, &tls.ca_pem).context("writing the test CA file")?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(
            format!("https://{addr}"),
            "00000000-0000-4000-8000-5161150000aa".to_owned(),
            format!("identity-header-{}", Shared::new_version_id()),
        ));
        let server = tokio::spawn(server::serve(
            listener,
            tokio_rustls::TlsAcceptor::from(tls.server),
            shared.clone(),
        ));
        Ok(Self {
            shared,
            ca_pem: tls.ca_pem,
            ca_file,
            _dir: dir,
            server,
        })
    }

    /// The vault URL to configure: `https://127.0.0.1:PORT/`.
    pub fn vault_url(&self) -> String {
        format!("{}/", self.shared.base)
    }

    /// The Entra ID authority host (`AZURE_AUTHORITY_HOST`): `https://127.0.0.1:PORT`.
    pub fn authority_host(&self) -> String {
        self.shared.base.clone()
    }

    /// The tenant the token endpoint serves.
    pub fn tenant_id(&self) -> &str {
        &self.shared.tenant
    }

    /// `IDENTITY_ENDPOINT` for the App Service managed identity protocol.
    pub fn identity_endpoint(&self) -> String {
        format!("{}/msi/token", self.shared.base)
    }

    /// `IDENTITY_HEADER`: the secret the managed identity endpoint expects.
    pub fn identity_header(&self) -> &str {
        &self.shared.identity_header
    }

    /// The test CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// A file holding [`Self::ca_pem`], alive as long as the double (for `SSL_CERT_FILE` or a
    /// client's extra-root setting).
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// Lets `client_id` get tokens with `secret`.
    pub fn register_client_secret(&self, client_id: &str, secret: &str) {
        self.shared
            .directory()
            .client_secrets
            .insert(client_id.to_owned(), secret.to_owned());
    }

    /// Lets `client_id` get tokens by presenting `token` as its client assertion (what
    /// workload identity reads from `AZURE_FEDERATED_TOKEN_FILE`).
    pub fn register_federated_token(&self, client_id: &str, token: &str) {
        self.shared
            .directory()
            .federated_tokens
            .insert(client_id.to_owned(), token.to_owned());
    }

    /// Which user-assigned identity the last managed identity request named, if any:
    /// `("client_id" | "object_id" | "msi_res_id", value)`.
    pub fn last_managed_identity(&self) -> Option<(String, String)> {
        self.shared.directory().last_managed_identity.clone()
    }

    /// Adds a certificate version with a fresh key and a self-signed certificate, and its
    /// backing key and secret versions (same name and version, as Key Vault does).
    pub fn add_certificate_version(
        &self,
        name: &str,
        kind: KeyKind,
        spec: VersionSpec,
        format: SecretFormat,
    ) -> crate::Result<AddedVersion> {
        let material = Arc::new(Material::generate(kind)?);
        let (der, cert_pem) = material.self_signed(name)?;
        let (value, content_type) = match format {
            SecretFormat::Pem => (
                format!("{}{cert_pem}", material.private_pem()),
                PEM_CONTENT_TYPE,
            ),
            SecretFormat::Pkcs12 => (
                pem_block("CERTIFICATE", &der)
                    .lines()
                    .filter(|l| !l.starts_with("-----"))
                    .collect(),
                PKCS12_CONTENT_TYPE,
            ),
        };
        let id = Shared::new_version_id();
        let version = || Version::new(&id, spec);
        let mut vault = self.shared.vault();
        vault.add(
            name,
            CertificateVersion {
                version: version(),
                der,
            },
        );
        vault.add(
            name,
            KeyVersion {
                version: version(),
                material: material.clone(),
                managed: true,
            },
        );
        vault.add(
            name,
            SecretVersion {
                version: version(),
                value,
                content_type: Some(content_type.to_owned()),
                managed: true,
            },
        );
        Ok(AddedVersion {
            version: id,
            public_jwk: material.public_jwk().clone(),
        })
    }

    /// Adds a non-exportable key version: the double returns only its public half and signs
    /// with it on request.
    pub fn add_key_version(
        &self,
        name: &str,
        kind: KeyKind,
        spec: VersionSpec,
    ) -> crate::Result<AddedVersion> {
        let material = Arc::new(Material::generate(kind)?);
        let id = Shared::new_version_id();
        self.shared.vault().add(
            name,
            KeyVersion {
                version: Version::new(&id, spec),
                material: material.clone(),
                managed: false,
            },
        );
        Ok(AddedVersion {
            version: id,
            public_jwk: material.public_jwk().clone(),
        })
    }

    /// Adds a secret version holding `value`, with an optional content type.
    pub fn add_secret_version(
        &self,
        name: &str,
        value: &str,
        content_type: Option<&str>,
        spec: VersionSpec,
    ) -> AddedVersion {
        let id = Shared::new_version_id();
        self.shared.vault().add(
            name,
            SecretVersion {
                version: Version::new(&id, spec),
                value: value.to_owned(),
                content_type: content_type.map(str::to_owned),
                managed: false,
            },
        );
        AddedVersion {
            version: id,
            public_jwk: Value::Null,
        }
    }

    /// Disables one version; returns whether it existed. Disabling a certificate version also
    /// disables its backing key and secret versions.
    pub fn disable(&self, kind: ObjectKind, name: &str, version: &str) -> bool {
        let mut vault = self.shared.vault();
        let mut found = false;
        let mut off = |v: &mut Version| {
            if v.id == version {
                v.spec.enabled = false;
                found = true;
            }
        };
        if matches!(kind, ObjectKind::Certificate) {
            for c in vault.certificates.get_mut(name).into_iter().flatten() {
                off(&mut c.version);
            }
        }
        if matches!(kind, ObjectKind::Certificate | ObjectKind::Key) {
            for k in vault.keys.get_mut(name).into_iter().flatten() {
                off(&mut k.version);
            }
        }
        if matches!(kind, ObjectKind::Certificate | ObjectKind::Secret) {
            for s in vault.secrets.get_mut(name).into_iter().flatten() {
                off(&mut s.version);
            }
        }
        found
    }

    /// While on, every request (vault, token, managed identity) gets `503 Service Unavailable`.
    pub fn set_outage(&self, on: bool) {
        self.shared.outage.store(on, Ordering::SeqCst);
    }

    /// Request counts so far.
    pub fn counters(&self) -> Counters {
        self.shared.counters()
    }

    /// The `api-version` of the last vault request.
    pub fn last_api_version(&self) -> Option<String> {
        self.shared
            .last_api_version
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for KeyVaultDouble {
    fn drop(&mut self) {
        self.server.abort();
    }
}
