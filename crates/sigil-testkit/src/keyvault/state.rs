//! What the double holds: vault objects with their versions, Entra ID registrations and the
//! access tokens it issued, and the counters tests read.

use super::crypto::Material;
use super::{Counters, VersionSpec};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// One version of a vault object: its id and attributes.
pub(super) struct Version {
    pub(super) id: String,
    pub(super) spec: VersionSpec,
}

impl Version {
    /// Version `id` with the attributes in `spec`.
    pub(super) fn new(id: &str, spec: VersionSpec) -> Self {
        Self {
            id: id.to_owned(),
            spec,
        }
    }
}

/// A certificate version: the certificate and the key behind it.
pub(super) struct CertificateVersion {
    pub(super) version: Version,
    pub(super) der: Vec<u8>,
}

/// A key version; the private half never leaves the double.
pub(super) struct KeyVersion {
    pub(super) version: Version,
    pub(super) material: Arc<Material>,
    /// Backs a certificate (Key Vault marks such keys `managed`).
    pub(super) managed: bool,
}

/// A secret version.
pub(super) struct SecretVersion {
    pub(super) version: Version,
    pub(super) value: String,
    pub(super) content_type: Option<String>,
    /// Backs a certificate.
    pub(super) managed: bool,
}

/// The vault's objects, by name, versions in creation order.
#[derive(Default)]
pub(super) struct Vault {
    pub(super) certificates: BTreeMap<String, Vec<CertificateVersion>>,
    pub(super) keys: BTreeMap<String, Vec<KeyVersion>>,
    pub(super) secrets: BTreeMap<String, Vec<SecretVersion>>,
}

impl Vault {
    /// Appends `object` as the newest version of `name`.
    pub(super) fn add<T: Versioned>(&mut self, name: &str, object: T) {
        T::all_mut(self)
            .entry(name.to_owned())
            .or_default()
            .push(object);
    }
}

/// A kind of versioned vault object (certificate, key, secret): what Key Vault calls it and
/// where the vault keeps it, so that listing and looking up versions is written once.
pub(super) trait Versioned: Sized {
    /// The name in Key Vault's error codes: `Certificate`, `Key`, `Secret`.
    const KIND: &'static str;
    /// The URL path segment: `certificates`, `keys`, `secrets`.
    const COLLECTION: &'static str;
    /// Every object of this kind, by name.
    fn all(vault: &Vault) -> &BTreeMap<String, Vec<Self>>;
    /// Every object of this kind, by name, for adding versions.
    fn all_mut(vault: &mut Vault) -> &mut BTreeMap<String, Vec<Self>>;
    /// The version's id and attributes.
    fn version(&self) -> &Version;
}

/// Implements [`Versioned`] for a version type the vault keeps in its field `$field` (which is
/// also the URL path segment).
macro_rules! versioned {
    ($type:ty, $field:ident, $kind:literal) => {
        impl Versioned for $type {
            const KIND: &'static str = $kind;
            const COLLECTION: &'static str = stringify!($field);
            fn all(vault: &Vault) -> &BTreeMap<String, Vec<Self>> {
                &vault.$field
            }
            fn all_mut(vault: &mut Vault) -> &mut BTreeMap<String, Vec<Self>> {
                &mut vault.$field
            }
            fn version(&self) -> &Version {
                &self.version
            }
        }
    };
}

versioned!(CertificateVersion, certificates, "Certificate");
versioned!(KeyVersion, keys, "Key");
versioned!(SecretVersion, secrets, "Secret");

/// Entra ID's side: who may get a token, and the tokens handed out.
#[derive(Default)]
pub(super) struct Directory {
    /// client id -> client secret.
    pub(super) client_secrets: HashMap<String, String>,
    /// client id -> the federated (Kubernetes service account) token it presents.
    pub(super) federated_tokens: HashMap<String, String>,
    /// Access tokens the vault accepts.
    pub(super) issued: HashSet<String>,
    /// The `client_id` / `object_id` / `msi_res_id` of the last managed identity request.
    pub(super) last_managed_identity: Option<(String, String)>,
}

/// Everything the server tasks share with the test.
pub(super) struct Shared {
    /// `https://127.0.0.1:PORT`, no trailing slash.
    pub(super) base: String,
    pub(super) tenant: String,
    /// What the managed identity endpoint expects in `X-IDENTITY-HEADER`.
    pub(super) identity_header: String,
    pub(super) vault: Mutex<Vault>,
    pub(super) directory: Mutex<Directory>,
    pub(super) outage: AtomicBool,
    pub(super) sign_calls: AtomicU64,
    pub(super) token_requests: AtomicU64,
    pub(super) challenges: AtomicU64,
    pub(super) vault_requests: AtomicU64,
    pub(super) last_api_version: Mutex<Option<String>>,
}

impl Shared {
    pub(super) fn new(base: String, tenant: String, identity_header: String) -> Self {
        Self {
            base,
            tenant,
            identity_header,
            vault: Mutex::default(),
            directory: Mutex::default(),
            outage: AtomicBool::new(false),
            sign_calls: AtomicU64::new(0),
            token_requests: AtomicU64::new(0),
            challenges: AtomicU64::new(0),
            vault_requests: AtomicU64::new(0),
            last_api_version: Mutex::default(),
        }
    }

    /// The vault, even if a panicking test thread poisoned the lock.
    pub(super) fn vault(&self) -> MutexGuard<'_, Vault> {
        self.vault.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The directory, even if a panicking test thread poisoned the lock.
    pub(super) fn directory(&self) -> MutexGuard<'_, Directory> {
        self.directory.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn counters(&self) -> Counters {
        Counters {
            sign_calls: self.sign_calls.load(Ordering::SeqCst),
            token_requests: self.token_requests.load(Ordering::SeqCst),
            challenges: self.challenges.load(Ordering::SeqCst),
            vault_requests: self.vault_requests.load(Ordering::SeqCst),
        }
    }

    /// A fresh 32-hex-digit version id, as Key Vault's look.
    pub(super) fn new_version_id() -> String {
        hex(&random::<16>())
    }

    /// A fresh opaque access token.
    pub(super) fn new_access_token() -> String {
        format!("kv-double-{}", hex(&random::<24>()))
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The system RNG does not fail on Linux; a zero id would still be unique enough for a test.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
