//! Logs through `tracing`: JSON lines (or pretty text) written by a background thread so a
//! slow terminal or pipe never stalls a request. `RUST_LOG` filters; the default is `info`,
//! with openraft's own chatter at `warn`, less one misleading openraft error line (see
//! `sigil_store::log_filter`).

use crate::cli::LogFormat;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Installs the global subscriber; keep the guard alive until exit so buffered lines flush.
pub fn init(format: LogFormat) -> WorkerGuard {
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stdout());
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,openraft=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let quiet = sigil_store::log_filter::QuietReadChecks;
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .finish()
            .with(quiet)
            .init(),
        LogFormat::Pretty => builder.finish().with(quiet).init(),
    }
    guard
}
