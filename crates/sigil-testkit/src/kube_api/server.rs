//! The HTTP side of the double: an accept loop serving each connection with hyper, so that
//! an outage can drop every open connection (watches included) and refuse new ones, as a
//! dead API server or a cut network would.

use super::{ApiRequest, Shared};
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Accepts connections until aborted; while `available` is false, closes each one at once.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    router: Router,
    available: watch::Receiver<bool>,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors, say: wait instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if !*available.borrow() {
            drop(stream);
            continue;
        }
        let service = TowerToHyperService::new(router.clone());
        let mut outage = available.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                // Dropping the connection closes the socket mid-request or mid-watch.
                _ = outage.wait_for(|up| !*up) => {}
            }
        });
    }
}

/// Middleware: records every request in the log before routing it.
pub(crate) async fn log_request(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    shared.record(ApiRequest {
        method: request.method().as_str().to_owned(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().unwrap_or_default().to_owned(),
    });
    next.run(request).await
}
