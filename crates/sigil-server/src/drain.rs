//! Taking a pod out of service without failing a request.
//!
//! A load balancer learns that a pod is going away only from its readiness probe, up to one
//! probe period late; until then it keeps sending new connections. So on SIGTERM a pod
//! *drains* before it stops: [`Drain::begin`] turns `/readyz` to 503 at once, while every
//! endpoint keeps answering, and every response says `Connection: close` ([`close_when_draining`])
//! so that clients on keep-alive connections reconnect, through the balancer, to a pod that
//! stays. Only after the drain period does the binary stop accepting (see the `sigil` crate's
//! shutdown sequence).
//!
//! The flag is set once and never cleared: a draining process never becomes ready again.

use crate::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether this process is draining; cheap to clone, shared by the endpoints and the
/// shutdown sequence.
#[derive(Debug, Clone, Default)]
pub struct Drain(Arc<AtomicBool>);

impl Drain {
    /// Not draining.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts draining; returns whether this call started it (false if it had begun).
    pub fn begin(&self) -> bool {
        !self.0.swap(true, Ordering::SeqCst)
    }

    /// Whether draining has begun.
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Middleware: while draining, every response (errors included) closes its connection after
/// it is sent, and says so with `Connection: close` (RFC 9112 §9.6), so the client sends its
/// next request on a new connection, which the balancer gives to another pod.
pub async fn close_when_draining(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let draining = request
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| state.drain.is_draining());
    match next.call(request).await {
        Ok(mut response) => {
            if draining {
                response
                    .response_mut()
                    .head_mut()
                    .set_connection_type(ConnectionType::Close);
            }
            Ok(response)
        }
        Err(error) if draining => {
            let mut rendered = error.error_response();
            rendered
                .head_mut()
                .set_connection_type(ConnectionType::Close);
            Err(InternalError::from_response(error, rendered).into())
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::Drain;

    #[test]
    fn draining_begins_once_and_never_ends() {
        let drain = Drain::new();
        let shared = drain.clone();
        assert!(!shared.is_draining());
        assert!(drain.begin());
        assert!(shared.is_draining());
        assert!(!shared.begin(), "a second signal does not begin it again");
        assert!(drain.is_draining());
    }
}
