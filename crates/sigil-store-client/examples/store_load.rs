//! Load for a `sigil store` cluster, used by `make bench`: many concurrent clients, each
//! sending its next request when the previous one is answered, for a fixed time.
//!
//! ```text
//! store_load --endpoints http://127.0.0.1:7001,http://127.0.0.1:7002 --op put \
//!            --concurrency 64 --seconds 10
//! ```
//!
//! `--op put` stores short-lived authorization-code-sized grants. `--op consume` first stores
//! grants (not timed), then consumes each once; a consume that does not return `Consumed` is an
//! error. Prints one JSON line: operations, per second, p50 and p99 latency in milliseconds,
//! and errors.

use sigil_core::handle::{GrantKey, new_handle};
use sigil_core::store::{ConsumeOutcome, Grant, GrantKind, GrantStore, PutOutcome};
use sigil_core::time::Timestamp;
use sigil_store_client::{ClientOptions, StoreClient};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    endpoints: Vec<String>,
    op: String,
    concurrency: usize,
    seconds: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        endpoints: Vec::new(),
        op: "put".into(),
        concurrency: 64,
        seconds: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--endpoints" => args.endpoints = value.split(',').map(str::to_owned).collect(),
            "--op" => args.op = value,
            "--concurrency" => args.concurrency = value.parse().map_err(|e| format!("{e}"))?,
            "--seconds" => args.seconds = value.parse().map_err(|e| format!("{e}"))?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if args.endpoints.is_empty() {
        return Err("--endpoints is required".into());
    }
    if args.op != "put" && args.op != "consume" {
        return Err(format!("--op must be put or consume, not {}", args.op));
    }
    Ok(args)
}

fn grant() -> Grant {
    let now = Timestamp::now();
    Grant {
        key: GrantKey::of_handle(&new_handle()),
        kind: GrantKind::AuthorizationCode,
        client_id: "bench".into(),
        subject: Some("bench-user".into()),
        family: None,
        issued_at: now,
        expires_at: now.plus(Duration::from_secs(120)),
        consumed_at: None,
        payload: vec![7; 200],
    }
}

/// What one client task measured.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: u64,
}

async fn put_loop(store: Arc<StoreClient>, until: Instant) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < until {
        let started = Instant::now();
        match store.put(grant()).await {
            Ok(PutOutcome::Stored) => tally.latencies_us.push(elapsed_us(started)),
            _ => tally.errors += 1,
        }
    }
    tally
}

async fn consume_loop(store: Arc<StoreClient>, keys: Vec<GrantKey>, until: Instant) -> Tally {
    let mut tally = Tally::default();
    for key in keys {
        if Instant::now() >= until {
            break;
        }
        let started = Instant::now();
        match store.consume(&key).await {
            Ok(ConsumeOutcome::Consumed(_)) => tally.latencies_us.push(elapsed_us(started)),
            _ => tally.errors += 1,
        }
    }
    tally
}

fn elapsed_us(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Stores `per_task` grants for each task, concurrently; returns each task's keys.
async fn prefill(
    store: &Arc<StoreClient>,
    tasks: usize,
    per_task: usize,
) -> Result<Vec<Vec<GrantKey>>, String> {
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let store = Arc::clone(store);
        handles.push(tokio::spawn(async move {
            let mut keys = Vec::with_capacity(per_task);
            for _ in 0..per_task {
                let grant = grant();
                let key = grant.key;
                store.put(grant).await.map_err(|e| e.to_string())?;
                keys.push(key);
            }
            Ok::<_, String>(keys)
        }));
    }
    let mut all = Vec::new();
    for handle in handles {
        all.push(handle.await.map_err(|e| e.to_string())??);
    }
    Ok(all)
}

fn percentile_ms(sorted_us: &[u64], percent: usize) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let index = (sorted_us.len() * percent / 100).min(sorted_us.len() - 1);
    sorted_us.get(index).copied().unwrap_or(0) as f64 / 1000.0
}

async fn run(args: Args) -> Result<(), String> {
    let store = Arc::new(
        StoreClient::connect(args.endpoints.clone(), ClientOptions::default())
            .map_err(|e| e.to_string())?,
    );
    let mut prefilled = if args.op == "consume" {
        // Enough for a generous rate; a task that runs out stops early and is reported.
        let per_task = usize::try_from(args.seconds).unwrap_or(10) * 6_000 / args.concurrency;
        prefill(&store, args.concurrency, per_task.max(1)).await?
    } else {
        Vec::new()
    };

    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let mut handles = Vec::new();
    for _ in 0..args.concurrency {
        let store = Arc::clone(&store);
        handles.push(match prefilled.pop() {
            Some(keys) => tokio::spawn(consume_loop(store, keys, until)),
            None => tokio::spawn(put_loop(store, until)),
        });
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for handle in handles {
        let tally = handle.await.map_err(|e| e.to_string())?;
        latencies.extend(tally.latencies_us);
        errors += tally.errors;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    println!(
        "{{\"op\":\"{}\",\"ops\":{},\"seconds\":{:.2},\"per_second\":{:.0},\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"errors\":{}}}",
        args.op,
        latencies.len(),
        seconds,
        latencies.len() as f64 / seconds,
        percentile_ms(&latencies, 50),
        percentile_ms(&latencies, 99),
        errors
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("store_load: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("store_load: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("store_load: {e}");
            ExitCode::FAILURE
        }
    }
}
