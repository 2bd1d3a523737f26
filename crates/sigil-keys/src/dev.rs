//! The development key source: a directory read like [`FileKeySource`]'s, where a signing key
//! for each configured algorithm and a session secret are generated the first time and reused
//! ever after, so tokens and sessions from before a restart still validate after it.
//!
//! Not for production: every instance with its own directory would generate its own key.

use crate::key_files::{KeyMetadata, session_secret_jwk};
use crate::write_file::{create_private_dir, write_new};
use crate::{
    Algorithm, FileKeySource, KeySet, KeySource, KeySourceError, SessionSecret, SigningAlgorithms,
    SigningKey,
};
use async_trait::async_trait;
use sigil_core::time::Timestamp;

/// Generates a key per algorithm and a session secret once, then reads them.
///
/// A generated key is written as `<alg>-<kid>.pem` (PKCS#8) with a sidecar
/// `<alg>-<kid>.json` recording its algorithm, and the secret as `session-<n>.jwk`; all are
/// valid at once. Files are written whole, never over an existing file, with mode 0600, in a
/// directory with mode 0700.
#[derive(Debug)]
pub struct DevKeySource {
    files: FileKeySource,
    algorithms: SigningAlgorithms,
}

impl DevKeySource {
    /// Keys under `dir` (created if missing), with one generated for each of `algorithms`
    /// that has none there.
    pub fn new(
        dir: impl Into<std::path::PathBuf>,
        algorithms: impl Into<SigningAlgorithms>,
    ) -> Self {
        Self {
            files: FileKeySource::new(dir),
            algorithms: algorithms.into(),
        }
    }

    fn generation_error(&self) -> impl Fn(crate::KeyError) -> KeySourceError + '_ {
        |source| KeySourceError::Generation {
            location: self.files.dir().display().to_string(),
            source,
        }
    }

    /// Generates a key for `alg` and persists it.
    fn generate_key(&self, alg: Algorithm) -> Result<SigningKey, KeySourceError> {
        let dir = self.files.dir();
        let (key, pem_text) = SigningKey::generate(alg).map_err(self.generation_error())?;
        // Valid at once: nothing can have cached an older key of a fresh development setup.
        let key = key.with_not_before(Timestamp(0)).with_created(Timestamp(0));
        let metadata = KeyMetadata {
            alg: Some(alg.to_string()),
            ..KeyMetadata::default()
        };
        let stem = format!("{}-{}", alg.as_str().to_ascii_lowercase(), key.kid());
        // The sidecar first: a crash between the two leaves no key whose algorithm is unknown.
        write_new(&dir.join(format!("{stem}.json")), &metadata.to_json())?;
        write_new(&dir.join(format!("{stem}.pem")), pem_text.as_bytes())?;
        tracing::info!(kid = key.kid(), %alg, dir = %dir.display(), "generated a development signing key");
        Ok(key)
    }

    fn generate_secret(&self) -> Result<SessionSecret, KeySourceError> {
        let secret = SessionSecret::generate("session-1").map_err(self.generation_error())?;
        let path = self.files.dir().join("session-1.jwk");
        write_new(&path, &session_secret_jwk(&secret))?;
        tracing::info!(dir = %self.files.dir().display(), "generated a development session secret");
        Ok(secret)
    }
}

#[async_trait]
impl KeySource for DevKeySource {
    /// Every key in the directory, plus a newly generated key for each algorithm, or a
    /// secret, that none was there for.
    async fn load(&self) -> Result<KeySet, KeySourceError> {
        create_private_dir(self.files.dir())?;
        let mut keys = self.files.read_keys()?;
        for &alg in self.algorithms.all() {
            if !keys.signing.iter().any(|key| key.alg() == alg) {
                keys.signing.push(self.generate_key(alg)?);
            }
        }
        if keys.secrets.is_empty() {
            keys.secrets.push(self.generate_secret()?);
        }
        Ok(keys)
    }

    fn describe(&self) -> String {
        format!("{} (development keys)", self.files.describe())
    }
}
