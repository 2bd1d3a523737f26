//! One background watch per Secret, keeping the latest object of each and waking
//! [`KeySource::changed`](sigil_keys::KeySource::changed) when a Secret's data changes.
//!
//! Single writer, cheap readers: the watch tasks write into a `tokio::sync::watch` channel;
//! a load reads it without waiting. A Secret counts as known only while its watch is
//! connected and has listed it: after a watch error the source reads with a GET instead, so
//! an outage shows as an error rather than as silently stale keys.

use crate::api::SecretsApi;
use futures::StreamExt as _;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::WatchStreamExt as _;
use kube::runtime::watcher::watch_object;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::AbortHandle;

/// What the watches know of each Secret, in configuration order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Watched {
    slots: Vec<Slot>,
}

#[derive(Debug, Clone, Default)]
struct Slot {
    /// The Secret as last seen (`Some(None)`: seen to be absent); `None` before the first
    /// listing.
    last: Option<Option<Secret>>,
    /// The watch is connected and `last` is current.
    live: bool,
}

impl Watched {
    /// The current Secrets (`None` for one that does not exist) if every watch is live.
    pub(crate) fn current(&self) -> Option<Vec<Option<Secret>>> {
        self.slots
            .iter()
            .map(|slot| slot.last.clone().filter(|_| slot.live))
            .collect()
    }

    /// Records what the watch of Secret `index` saw; true if its data changed.
    fn record(&mut self, index: usize, secret: Option<Secret>) -> bool {
        let Some(slot) = self.slots.get_mut(index) else {
            return false;
        };
        let data = |secret: &Option<Secret>| secret.as_ref().map(|secret| secret.data.clone());
        let changed = slot.last.as_ref().map(data) != Some(data(&secret));
        slot.last = Some(secret);
        slot.live = true;
        changed
    }

    /// True if the watch of Secret `index` has never listed it.
    fn never_seen(&self, index: usize) -> bool {
        self.slots
            .get(index)
            .is_some_and(|slot| slot.last.is_none())
    }

    /// Marks the watch of Secret `index` broken; true if it was live.
    fn lose(&mut self, index: usize) -> bool {
        self.slots
            .get_mut(index)
            .is_some_and(|slot| std::mem::replace(&mut slot.live, false))
    }
}

/// The watch tasks of one source; dropping this stops them.
pub(crate) struct Watchers {
    state: Arc<watch::Sender<Watched>>,
    tasks: Vec<AbortHandle>,
}

impl Watchers {
    /// Starts one watch per Secret name on `runtime`.
    pub(crate) fn start(
        runtime: &tokio::runtime::Handle,
        api: &SecretsApi,
        names: &[String],
    ) -> Self {
        let initial = Watched {
            slots: vec![Slot::default(); names.len()],
        };
        let state = Arc::new(watch::channel(initial).0);
        let tasks = names
            .iter()
            .enumerate()
            .map(|(index, name)| {
                let watch = watch_secret(api.clone(), name.clone(), index, Arc::clone(&state));
                runtime.spawn(watch).abort_handle()
            })
            .collect();
        Self { state, tasks }
    }

    /// What the watches know now.
    pub(crate) fn current(&self) -> Option<Vec<Option<Secret>>> {
        self.state.borrow().current()
    }

    /// A receiver that sees a new value whenever a Secret's data changes.
    pub(crate) fn subscribe(&self) -> watch::Receiver<Watched> {
        self.state.subscribe()
    }
}

impl Drop for Watchers {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Follows one Secret for as long as the source lives. The watcher lists and watches with
/// `fieldSelector=metadata.name=NAME`, resumes from the last resourceVersion after a dropped
/// connection, and backs off (up to 30 s) while the API server is unreachable.
async fn watch_secret(
    api: SecretsApi,
    name: String,
    index: usize,
    state: Arc<watch::Sender<Watched>>,
) {
    let location = api.location(&name);
    let events = watch_object(api.api().clone(), &name).default_backoff();
    futures::pin_mut!(events);
    while let Some(event) = events.next().await {
        match event {
            Ok(secret) => {
                let absent = secret.is_none();
                let changed = state.send_if_modified(|watched| watched.record(index, secret));
                if changed && absent {
                    tracing::warn!(secret = %location, "the watched Secret does not exist");
                }
            }
            Err(error) => {
                let mut was_live = false;
                let mut never_seen = false;
                state.send_if_modified(|watched| {
                    was_live = watched.lose(index);
                    never_seen = watched.never_seen(index);
                    false
                });
                // Warn once per outage (and while the Secret was never read); the retries
                // that follow log at debug.
                if was_live || never_seen {
                    tracing::warn!(secret = %location, error = %error, "watching the Secret failed; retrying");
                } else {
                    tracing::debug!(secret = %location, error = %error, "watching the Secret failed; retrying");
                }
            }
        }
    }
}
