//! Write throughput of the embedded store: N concurrent tasks each doing put + consume.
//!
//! Usage: `cargo run --release -p sigil-store --example embedded_throughput -- [tasks] [seconds]`
//! (defaults: 16 tasks, 5 seconds). Prints writes per second and the p50 / p99 latency of one
//! write; with many tasks, proposals share log entries and fsyncs, so throughput grows with
//! concurrency until the disk or the CPU is saturated.

use sigil_core::handle::GrantKey;
use sigil_core::store::{ConsumeOutcome, Grant, GrantKind, GrantStore, PutOutcome};
use sigil_core::time::Timestamp;
use sigil_store::EmbeddedStore;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn grant(handle: &str) -> Grant {
    Grant {
        key: GrantKey::of_handle(handle),
        kind: GrantKind::AuthorizationCode,
        client_id: "bench".into(),
        subject: Some("user".into()),
        family: None,
        issued_at: Timestamp::now(),
        expires_at: Timestamp(Timestamp::now().as_secs() + 60),
        consumed_at: None,
        payload: vec![0; 64],
    }
}

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let tasks = arg(1, 16);
    let seconds = arg(2, 5);
    let dir = tempfile::tempdir()?;
    let store = Arc::new(EmbeddedStore::open(dir.path()).await?);
    let deadline = Instant::now() + Duration::from_secs(seconds);

    let mut workers = tokio::task::JoinSet::new();
    for t in 0..tasks {
        let store = Arc::clone(&store);
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut i = 0u64;
            while Instant::now() < deadline {
                let g = grant(&format!("{t}-{i}"));
                let key = g.key;
                let started = Instant::now();
                if store.put(g).await? != PutOutcome::Stored {
                    return Err("put did not store".into());
                }
                latencies.push(started.elapsed());
                let started = Instant::now();
                if !matches!(store.consume(&key).await?, ConsumeOutcome::Consumed(_)) {
                    return Err("consume did not consume".into());
                }
                latencies.push(started.elapsed());
                i += 1;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(latencies)
        });
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    while let Some(done) = workers.join_next().await {
        latencies.extend(done??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1));
        latencies.get(i).copied().unwrap_or_default()
    };
    println!(
        "{tasks} tasks: {} writes in {elapsed:.1}s = {:.0} writes/s, p50 {:?}, p99 {:?}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        at(0.50),
        at(0.99)
    );
    store.shutdown().await?;
    Ok(())
}
