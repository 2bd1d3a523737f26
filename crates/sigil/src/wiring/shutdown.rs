//! Stopping without failing a request: drain, stop accepting, finish what is in flight.
//!
//! A load balancer that follows readiness (a Kubernetes Service) keeps sending new connections
//! to a pod until its probe has seen `/readyz` fail, up to a probe period after SIGTERM. A pod
//! that closed its listener at once would refuse them. So the first stop request (SIGTERM or
//! SIGINT) only begins the drain ([`sigil_server::Drain`]): `/readyz` answers 503 and every
//! response closes its connection, while everything is still served, for
//! `server.shutdown.drain`. Then the listener closes; actix answers requests in flight, closes
//! idle keep-alive connections, and gives the rest `server.shutdown.timeout` to finish. A
//! second stop request ends the drain early (Ctrl-C twice on a laptop).
//!
//! Stop requests arrive on a channel ([`signals`] feeds it from the process's signals), so that
//! the sequence is tested without sending signals to the test process.

use crate::config::server::ShutdownConfig;
use actix_web::dev::Server;
use anyhow::Context as _;
use sigil_server::Drain;
use tokio::sync::mpsc;

/// A request to stop, named for the log.
pub type StopRequest = &'static str;

/// Stop requests from SIGTERM and SIGINT, for as long as the receiver lives.
pub fn signals() -> anyhow::Result<mpsc::UnboundedReceiver<StopRequest>> {
    let (send, receive) = mpsc::unbounded_channel();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
        tokio::spawn(async move {
            loop {
                let name = tokio::select! {
                    _ = terminate.recv() => "SIGTERM",
                    _ = interrupt.recv() => "SIGINT",
                };
                if send.send(name).is_err() {
                    break;
                }
            }
        });
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if send.send("Ctrl-C").is_err() {
                break;
            }
        }
    });
    Ok(receive)
}

/// The `shutdown_timeout` actix takes, in whole seconds: `timeout` rounded up.
pub fn actix_timeout(config: &ShutdownConfig) -> u64 {
    let timeout = config.timeout;
    timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0)
}

/// Serves until `server` stops on its own, or until a stop request (or the end of `stops`:
/// nothing could ask any more); then drains for
/// `config.drain` (or until a second request), stops `server` gracefully (it must have been
/// built with [`actix_timeout`] and without its own signal handling) and returns when it has
/// stopped.
pub async fn serve(
    server: Server,
    drain: &Drain,
    config: &ShutdownConfig,
    mut stops: mpsc::UnboundedReceiver<StopRequest>,
) -> anyhow::Result<()> {
    let handle = server.handle();
    let mut running = tokio::spawn(server);
    let stop = tokio::select! {
        ended = &mut running => return ended.context("HTTP server task")?.context("HTTP server"),
        stop = stops.recv() => stop,
    };
    drain.begin();
    tracing::info!(
        signal = stop.unwrap_or("none"),
        drain = ?config.drain,
        "draining: /readyz answers 503 and connections close after each response; \
         a second signal stops at once"
    );
    tokio::select! {
        () = tokio::time::sleep(config.drain) => {}
        again = stops.recv(), if stop.is_some() => {
            tracing::info!(signal = again.unwrap_or("none"), "drain cut short");
        }
    }
    tracing::info!(timeout = ?config.timeout, "no longer accepting; finishing requests in flight");
    handle.stop(true).await;
    running
        .await
        .context("HTTP server task")?
        .context("HTTP server")
}
