//! The double's HTTPS server: accepts TLS connections on loopback, reads each request into a
//! [`Call`] and routes it to Entra ID ([`super::entra`]) or the vault ([`super::vault`]).

use super::state::Shared;
use super::{entra, vault};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// A response the double sends.
pub(super) type Reply = Response<Full<Bytes>>;

/// One request, read whole.
pub(super) struct Call {
    pub(super) method: Method,
    /// Path segments, percent-decoding not needed for the names tests use.
    pub(super) segments: Vec<String>,
    pub(super) query: HashMap<String, String>,
    pub(super) headers: hyper::HeaderMap,
    pub(super) body: Bytes,
}

impl Call {
    /// A header as text, if present and ASCII.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Accepts connections until the task is aborted; dropping the task drops (and so aborts) every
/// connection it serves.
pub(super) async fn serve(listener: TcpListener, tls: TlsAcceptor, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            // Out of descriptors, say: back off instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        // Reap finished connections so the set does not grow without bound.
        while connections.try_join_next().is_some() {}
        let tls = tls.clone();
        let shared = shared.clone();
        connections.spawn(async move {
            let Ok(stream) = tls.accept(tcp).await else {
                return;
            };
            let service = hyper::service::service_fn(move |request| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(&shared, request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(shared: &Shared, request: Request<Incoming>) -> Reply {
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return error(StatusCode::BAD_REQUEST, "BadRequest", "unreadable body");
    };
    let call = Call {
        method: parts.method,
        segments: parts
            .uri
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        query: parts
            .uri
            .query()
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default(),
        headers: parts.headers,
        body,
    };
    if shared.outage.load(Ordering::SeqCst) {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The service is unavailable (outage switch of the Key Vault double).",
        );
    }
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    match (&call.method, segments.as_slice()) {
        (&Method::POST, [tenant, "oauth2", "v2.0", "token"]) => entra::token(shared, tenant, &call),
        (&Method::GET, ["msi", "token"]) => entra::managed_identity(shared, &call),
        _ => vault::handle(shared, &call),
    }
}

/// A JSON response.
pub(super) fn json_reply(status: StatusCode, body: &Value) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(body.to_string())));
    *reply.status_mut() = status;
    reply.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    reply
}

/// Key Vault's error shape: `{"error":{"code","message"}}`.
pub(super) fn error(status: StatusCode, code: &str, message: &str) -> Reply {
    json_reply(
        status,
        &json!({ "error": { "code": code, "message": message } }),
    )
}
