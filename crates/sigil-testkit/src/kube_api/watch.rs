//! Watches: a chunked response of newline-delimited `{"type": …, "object": …}` events,
//! replaying the changes after the requested resourceVersion and then following new ones.

use super::Shared;
use super::status::Status;
use super::store::{Change, EventType, Selection};
use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// How often an idle watch that allows bookmarks gets one. The API server sends them about
/// once a minute; a test wants to see them.
const BOOKMARK_INTERVAL: Duration = Duration::from_secs(1);

/// The query of a watch request.
pub(crate) struct WatchParams {
    pub(crate) selection: Selection,
    /// Where to start: absent, empty or `0` means "now", preceded by an `ADDED` event for
    /// every selected object, as the API server does.
    pub(crate) resource_version: Option<String>,
    /// `allowWatchBookmarks`.
    pub(crate) bookmarks: bool,
    /// `timeoutSeconds`: the stream ends (cleanly) after this long.
    pub(crate) timeout_seconds: Option<u64>,
}

/// The streaming response, or a `Status` if the resourceVersion does not parse.
pub(crate) fn watch_response(shared: &Arc<Shared>, params: WatchParams) -> Response {
    let latest = shared.store.subscribe();
    let mut pending = VecDeque::new();
    let from = match params.resource_version.as_deref() {
        None | Some("" | "0") => {
            let (items, version) = shared.store.list(&params.selection);
            pending.extend(items.into_iter().map(|object| event_line("ADDED", &object)));
            version
        }
        Some(text) => match text.parse::<u64>() {
            Ok(version) => version,
            Err(_) => {
                return Status::bad_request(format!("invalid resourceVersion {text}"))
                    .into_response();
            }
        },
    };
    let stream = Watch {
        shared: Arc::clone(shared),
        selection: params.selection,
        last: from,
        pending,
        latest,
        deadline: params
            .timeout_seconds
            .map(|seconds| Instant::now() + Duration::from_secs(seconds)),
        next_bookmark: params.bookmarks.then(|| Instant::now() + BOOKMARK_INTERVAL),
    };
    let body = Body::from_stream(futures::stream::unfold(stream, Watch::next_line));
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The state of one open watch.
struct Watch {
    shared: Arc<Shared>,
    selection: Selection,
    /// Every change up to here has been sent (or did not match).
    last: u64,
    pending: VecDeque<Bytes>,
    latest: watch::Receiver<u64>,
    deadline: Option<Instant>,
    next_bookmark: Option<Instant>,
}

impl Watch {
    /// The next event line; `None` ends the response.
    async fn next_line(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        loop {
            if let Some(line) = self.pending.pop_front() {
                return Some((Ok(line), self));
            }
            self.latest.borrow_and_update();
            let (changes, version) = self.shared.store.changes_since(&self.selection, self.last);
            self.last = version;
            self.pending.extend(changes.iter().map(change_line));
            if !self.pending.is_empty() {
                continue;
            }
            let deadline = self.deadline;
            let bookmark = self.next_bookmark;
            tokio::select! {
                changed = self.latest.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                () = sleep_until(deadline) => return None,
                () = sleep_until(bookmark) => {
                    self.next_bookmark = Some(Instant::now() + BOOKMARK_INTERVAL);
                    let marker = json!({
                        "kind": "Secret",
                        "apiVersion": "v1",
                        "metadata": { "resourceVersion": self.last.to_string() },
                    });
                    self.pending.push_back(event_line("BOOKMARK", &marker));
                }
            }
        }
    }
}

/// Sleeps until `at`, or forever if there is no such time.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn change_line(change: &Change) -> Bytes {
    let kind: EventType = change.kind;
    event_line(kind.as_str(), &change.object)
}

fn event_line(kind: &str, object: &Value) -> Bytes {
    let mut line = json!({ "type": kind, "object": object }).to_string();
    line.push('\n');
    Bytes::from(line)
}
