//! A static web site on its own loopback port, for browser apps under test.
//!
//! Serving an app from another port than the issuer makes it another origin, so everything it
//! sends to Sigil is cross-origin, as for an app on its own domain. The same files are reachable
//! as `http://127.0.0.1:PORT` and `http://localhost:PORT`: two origins, one registered with the
//! client and one not.

use anyhow::Context as _;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// The files of one directory, served over HTTP on `127.0.0.1`. Stops when dropped.
pub struct StaticSite {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl StaticSite {
    /// Serves the files directly in `root` (no subdirectories); `/` is `index.html`.
    pub async fn start(root: &Path) -> crate::Result<Self> {
        let root = Arc::new(
            root.canonicalize()
                .with_context(|| format!("site root {}", root.display()))?,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new().fallback(move |uri: Uri| {
            let root = Arc::clone(&root);
            async move { file(&root, &uri).await }
        });
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                eprintln!("static site stopped: {error}");
            }
        });
        Ok(Self { addr, task })
    }

    /// The site's origin on `127.0.0.1`: `http://127.0.0.1:PORT`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The same site as another origin, under the name `localhost`: `http://localhost:PORT`.
    pub fn localhost_origin(&self) -> String {
        format!("http://localhost:{}", self.addr.port())
    }
}

impl Drop for StaticSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The file `uri` names, if it is a plain file name in `root`; 404 otherwise.
async fn file(root: &Path, uri: &Uri) -> Response {
    let name = match uri.path() {
        "/" => "index.html",
        path => path.trim_start_matches('/'),
    };
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    let Some(content_type) = plain.then(|| content_type(name)).flatten() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let path: PathBuf = root.join(name);
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Browsers run module scripts only with a JavaScript content type.
fn content_type(name: &str) -> Option<&'static str> {
    let (_, extension) = name.rsplit_once('.')?;
    match extension {
        "html" => Some("text/html; charset=utf-8"),
        "js" | "mjs" => Some("text/javascript; charset=utf-8"),
        "json" => Some("application/json"),
        "css" => Some("text/css; charset=utf-8"),
        _ => None,
    }
}
