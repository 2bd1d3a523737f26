//! What the Azure source tests share: a Key Vault double with a registered app, and source
//! configurations pointing at it.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use serde_json::{Value, json};
use sigil_azure::{AzureConfig, AzureKeySource};
use sigil_testkit::keyvault::{AddedVersion, KeyKind, KeyVaultDouble, SecretFormat, VersionSpec};
use std::path::{Path, PathBuf};

/// The app registration the double knows.
pub const CLIENT_ID: &str = "11111111-2222-4333-8444-555555555555";
pub const CLIENT_SECRET: &str = "s3cret-value-that-must-never-be-logged";

/// A running double with the app registered, and a directory for secret/token files.
pub struct Fixture {
    pub double: KeyVaultDouble,
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub async fn start() -> Self {
        let double = KeyVaultDouble::start().await.expect("double starts");
        double.register_client_secret(CLIENT_ID, CLIENT_SECRET);
        Self {
            double,
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A file in the fixture's directory holding `contents`.
    pub fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write file");
        path
    }

    /// Adds a version of key `name`.
    pub fn add_key(&self, name: &str, kind: KeyKind, spec: VersionSpec) -> AddedVersion {
        self.double
            .add_key_version(name, kind, spec)
            .expect("key version added")
    }

    /// Adds a version of certificate `name` whose backing secret is PEM.
    pub fn add_pem_certificate(
        &self,
        name: &str,
        kind: KeyKind,
        spec: VersionSpec,
    ) -> AddedVersion {
        self.double
            .add_certificate_version(name, kind, spec, SecretFormat::Pem)
            .expect("certificate version added")
    }

    /// Client-secret credential settings with `secret`.
    pub fn client_secret(&self, secret: &str) -> Value {
        json!({
            "type": "client_secret",
            "tenant_id": self.double.tenant_id(),
            "client_id": CLIENT_ID,
            "secret_file": self.file(&format!("client-secret-{}", unique()), &format!("{secret}\n")),
            "authority_host": self.double.authority_host(),
        })
    }

    /// Workload identity credential settings: `client_id` presents the token in `token_file`.
    pub fn workload_identity(&self, client_id: &str, token_file: &Path) -> Value {
        json!({
            "type": "workload_identity",
            "tenant_id": self.double.tenant_id(),
            "client_id": client_id,
            "token_file": token_file,
            "authority_host": self.double.authority_host(),
        })
    }

    /// A source configuration: `object` is `{"certificate": ..}` or `{"key": ..}` plus any
    /// other members; the credential is the registered client secret unless given.
    pub fn config(&self, object: Value) -> AzureConfig {
        let mut config = json!({
            "vault_url": self.double.vault_url(),
            "credential": self.client_secret(CLIENT_SECRET),
            "ca_file": self.double.ca_file(),
            "verify_challenge_resource": false,
            "max_retries": 0,
        });
        for (name, value) in object.as_object().expect("object").clone() {
            config[name] = value;
        }
        serde_json::from_value(config).expect("valid configuration")
    }

    pub fn source(&self, object: Value) -> AzureKeySource {
        AzureKeySource::new(&self.config(object)).expect("source builds")
    }
}

/// Now, Unix seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// `error` and its sources, joined by `: `.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// A number no other call in this process got.
fn unique() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}
