//! [`KeyFileStore`] for the first Secret: what `sigil keys generate|rotate` reads and writes.
//!
//! A write is one replace (PUT) carrying the resourceVersion that [`KeyFileStore::files`]
//! read, so a write racing another one fails with [`KeySourceError::Conflict`] instead of
//! losing the other's keys. A Secret that does not exist yet is created (POST), so
//! `sigil keys generate` can bootstrap a deployment.

use crate::KubeSecretKeySource;
use crate::merge::files_of;
use crate::names::is_secret_key;
use async_trait::async_trait;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::ObjectMeta;
use sigil_keys::{KeyFileChange, KeyFileStore, KeyFiles, KeySourceError};

/// The writable Secret as last read.
#[derive(Debug, Clone)]
pub(crate) enum LastRead {
    /// It does not exist: the next write creates it.
    Missing,
    /// It exists: the next write replaces it, if it still has this resourceVersion.
    Found(Box<Secret>),
}

impl KubeSecretKeySource {
    /// The writable Secret's name.
    fn writable(&self) -> &str {
        self.secrets.first().map_or("", String::as_str)
    }

    fn remember(&self, read: Option<LastRead>) {
        *self
            .last_read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = read;
    }

    fn take_last_read(&self) -> Option<LastRead> {
        self.last_read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    async fn read_writable(&self) -> Result<LastRead, KeySourceError> {
        Ok(match self.api.get(self.writable()).await? {
            Some(secret) => LastRead::Found(Box::new(secret)),
            None => LastRead::Missing,
        })
    }
}

#[async_trait]
impl KeyFileStore for KubeSecretKeySource {
    /// The first Secret's files (none if it does not exist yet), read now, not from the watch;
    /// remembers its resourceVersion for the next [`apply`](KeyFileStore::apply).
    async fn files(&self) -> Result<KeyFiles, KeySourceError> {
        let read = self.read_writable().await?;
        let files = match &read {
            LastRead::Found(secret) => files_of(secret),
            LastRead::Missing => KeyFiles::new(),
        };
        self.remember(Some(read));
        Ok(files)
    }

    /// Applies `change` to the Secret as [`files`](KeyFileStore::files) last read it (or as
    /// read now, if it was not read) in one replace guarded by its resourceVersion, or
    /// creates the Secret. On [`KeySourceError::Conflict`], read the files again and
    /// recompute the change. A file to create that the Secret holds already fails with
    /// [`KeySourceError::AlreadyExists`] and sends nothing.
    ///
    /// [`load`](sigil_keys::KeySource::load) answers from the watch, which reports the write
    /// a moment later (and wakes [`changed`](sigil_keys::KeySource::changed) when it does).
    async fn apply(&self, change: KeyFileChange) -> Result<(), KeySourceError> {
        let name = self.writable();
        for file in change.write.keys().chain(&change.remove) {
            if !is_secret_key(file) {
                return Err(KeySourceError::InvalidMetadata {
                    path: format!("{}/{file}", self.api.location(name)),
                    reason: "not a valid Secret key (letters, digits, `-`, `_` and `.`)".to_owned(),
                });
            }
        }
        let read = match self.take_last_read() {
            Some(read) => read,
            None => self.read_writable().await?,
        };
        let written = match read {
            LastRead::Found(mut secret) => {
                let data = secret.data.get_or_insert_with(Default::default);
                // Keys are only ever added: a name the Secret holds fails the whole change.
                if let Some(taken) = change.write.keys().find(|file| data.contains_key(*file)) {
                    // Keep what was read: the next try is guarded by the same version.
                    let path = format!("{}/{taken}", self.api.location(name));
                    self.remember(Some(LastRead::Found(secret)));
                    return Err(KeySourceError::AlreadyExists { path });
                }
                for file in &change.remove {
                    data.remove(file);
                }
                for (file, contents) in change.write {
                    data.insert(file, ByteString(contents));
                }
                self.api.replace(name, &secret).await?
            }
            LastRead::Missing => {
                let mut removed = change.write;
                removed.retain(|file, _| !change.remove.contains(file));
                let secret = Secret {
                    metadata: ObjectMeta {
                        name: Some(name.to_owned()),
                        namespace: Some(self.namespace.clone()),
                        ..ObjectMeta::default()
                    },
                    type_: Some("Opaque".to_owned()),
                    data: Some(
                        removed
                            .into_iter()
                            .map(|(file, contents)| (file, ByteString(contents)))
                            .collect(),
                    ),
                    ..Secret::default()
                };
                self.api.create(name, &secret).await?
            }
        };
        self.remember(Some(LastRead::Found(Box::new(written))));
        Ok(())
    }
}
