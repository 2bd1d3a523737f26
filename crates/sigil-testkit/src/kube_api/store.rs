//! The double's state: Secrets as the API server stores them (JSON objects), one
//! resourceVersion counter, and the history of changes that watches replay.

use super::status::Status;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use tokio::sync::watch;

/// A namespace and a name.
pub(crate) type Key = (String, String);

/// What a watch event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    /// The `type` member of a watch event.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One change, kept for watches that start from an older resourceVersion.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub(crate) resource_version: u64,
    pub(crate) key: Key,
    pub(crate) kind: EventType,
    pub(crate) object: Value,
}

/// Which objects a list or watch selects: one namespace, optionally one name
/// (`fieldSelector=metadata.name=NAME`).
#[derive(Debug, Clone)]
pub(crate) struct Selection {
    pub(crate) namespace: String,
    pub(crate) name: Option<String>,
}

impl Selection {
    fn matches(&self, key: &Key) -> bool {
        key.0 == self.namespace && self.name.as_ref().is_none_or(|name| *name == key.1)
    }
}

#[derive(Default)]
struct Inner {
    resource_version: u64,
    objects: BTreeMap<Key, Value>,
    history: Vec<Change>,
}

/// Secrets by namespace and name. Every write bumps the resourceVersion and publishes it on
/// a watch channel, which open watches wait on.
pub(crate) struct Store {
    inner: Mutex<Inner>,
    latest: watch::Sender<u64>,
}

impl Store {
    pub(crate) fn new() -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            latest: watch::channel(0).0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes when any write happens.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }

    pub(crate) fn get(&self, key: &Key) -> Option<Value> {
        self.lock().objects.get(key).cloned()
    }

    /// The selected objects and the resourceVersion of the list.
    pub(crate) fn list(&self, selection: &Selection) -> (Vec<Value>, u64) {
        let inner = self.lock();
        let items = inner
            .objects
            .iter()
            .filter(|(key, _)| selection.matches(key))
            .map(|(_, object)| object.clone())
            .collect();
        (items, inner.resource_version)
    }

    /// Changes to selected objects after `resource_version`, and the resourceVersion they
    /// bring the caller up to.
    pub(crate) fn changes_since(
        &self,
        selection: &Selection,
        resource_version: u64,
    ) -> (Vec<Change>, u64) {
        let inner = self.lock();
        let changes = inner
            .history
            .iter()
            .filter(|change| change.resource_version > resource_version)
            .filter(|change| selection.matches(&change.key))
            .cloned()
            .collect();
        (changes, inner.resource_version.max(resource_version))
    }

    /// POST: fails with AlreadyExists if the name is taken.
    pub(crate) fn create(&self, key: Key, object: Value) -> Result<Value, Status> {
        let mut inner = self.lock();
        if inner.objects.contains_key(&key) {
            return Err(Status::already_exists(&key.1));
        }
        Ok(self.commit(&mut inner, key, object, None))
    }

    /// PUT: fails with NotFound if there is no such object, and with Conflict if
    /// `expected_version` is given and is not the stored one.
    pub(crate) fn replace(
        &self,
        key: Key,
        object: Value,
        expected_version: Option<&str>,
    ) -> Result<Value, Status> {
        let mut inner = self.lock();
        let Some(stored) = inner.objects.get(&key) else {
            return Err(Status::not_found(&key.1));
        };
        let current = resource_version_of(stored);
        if expected_version.is_some_and(|expected| Some(expected) != current) {
            return Err(Status::conflict(&key.1));
        }
        let stored = stored.clone();
        Ok(self.commit(&mut inner, key, object, Some(&stored)))
    }

    /// Creates or replaces, unconditionally (the test side's write).
    pub(crate) fn upsert(&self, key: Key, object: Value) -> Value {
        let mut inner = self.lock();
        let stored = inner.objects.get(&key).cloned();
        self.commit(&mut inner, key, object, stored.as_ref())
    }

    /// Removes an object; `None` if there was none.
    pub(crate) fn delete(&self, key: &Key) -> Option<Value> {
        let mut inner = self.lock();
        let mut object = inner.objects.remove(key)?;
        inner.resource_version += 1;
        let version = inner.resource_version;
        set_meta(&mut object, "resourceVersion", version.to_string().into());
        inner.history.push(Change {
            resource_version: version,
            key: key.clone(),
            kind: EventType::Deleted,
            object: object.clone(),
        });
        self.latest.send_replace(version);
        Some(object)
    }

    /// Stores `object` under the next resourceVersion, keeping the server-owned metadata
    /// (uid, creationTimestamp) of `previous`, and records the change.
    fn commit(
        &self,
        inner: &mut Inner,
        key: Key,
        mut object: Value,
        previous: Option<&Value>,
    ) -> Value {
        inner.resource_version += 1;
        let version = inner.resource_version;
        let uid = previous
            .and_then(|old| old.pointer("/metadata/uid").cloned())
            .unwrap_or_else(|| format!("00000000-0000-4000-8000-{version:012}").into());
        let created = previous
            .and_then(|old| old.pointer("/metadata/creationTimestamp").cloned())
            .unwrap_or_else(|| "2026-01-01T00:00:00Z".into());
        set_meta(&mut object, "name", key.1.clone().into());
        set_meta(&mut object, "namespace", key.0.clone().into());
        set_meta(&mut object, "uid", uid);
        set_meta(&mut object, "creationTimestamp", created);
        set_meta(&mut object, "resourceVersion", version.to_string().into());
        let kind = if previous.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        inner.objects.insert(key.clone(), object.clone());
        inner.history.push(Change {
            resource_version: version,
            key,
            kind,
            object: object.clone(),
        });
        self.latest.send_replace(version);
        object
    }
}

/// `metadata.resourceVersion` of an object.
pub(crate) fn resource_version_of(object: &Value) -> Option<&str> {
    object.pointer("/metadata/resourceVersion")?.as_str()
}

fn set_meta(object: &mut Value, member: &str, value: Value) {
    if !object.is_object() {
        *object = json!({});
    }
    if let Some(root) = object.as_object_mut() {
        let metadata = root
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if !metadata.is_object() {
            *metadata = Value::Object(Map::new());
        }
        if let Some(metadata) = metadata.as_object_mut() {
            metadata.insert(member.to_owned(), value);
        }
    }
}
