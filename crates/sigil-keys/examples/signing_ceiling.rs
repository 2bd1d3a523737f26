//! The raw signing ceiling: how many typical access tokens the machine can sign per second
//! with a pre-parsed aws-lc-rs key, assembling the compact JWS as the server does, on N
//! threads. The benchmark divides Sigil's token endpoint throughput by this figure.
//!
//! `cargo run --release -p sigil-keys --example signing_ceiling -- --alg RS256 --threads 2 --seconds 5`

use sigil_keys::{Algorithm, KeyRing, SigningKey};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut alg = Algorithm::RS256;
    let mut threads = 2usize;
    let mut seconds = 5u64;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or("every flag takes a value")?;
        match flag.as_str() {
            "--alg" => alg = Algorithm::from_name(&value).ok_or("unknown --alg")?,
            "--threads" => threads = value.parse()?,
            "--seconds" => seconds = value.parse()?,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    let (key, _) = SigningKey::generate(alg)?;
    let ring = Arc::new(KeyRing::new(vec![key], alg)?);
    let claims = serde_json::json!({
        "iss": "https://sigil.example.com", "exp": 1_800_003_600u64, "aud": "https://api.example.com",
        "sub": "bench", "client_id": "bench", "iat": 1_800_000_000u64, "jti": "u6os71Ml3StRo0C2vc5GIg",
        "scope": "api.read",
    })
    .to_string();
    let now = sigil_core::time::Timestamp::now();
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (ring, stop, count, claims) =
                (ring.clone(), stop.clone(), count.clone(), claims.clone());
            std::thread::spawn(move || {
                let mut signed = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    if ring.sign_at("at+jwt", claims.as_bytes(), now).is_ok() {
                        signed += 1;
                    }
                }
                count.fetch_add(signed, Ordering::Relaxed);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().map_err(|_| "a signing thread panicked")?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let signatures = count.load(Ordering::Relaxed);
    println!(
        "{}",
        serde_json::json!({ "alg": alg.as_str(), "threads": threads, "seconds": elapsed, "signatures": signatures, "per_second": signatures as f64 / elapsed })
    );
    Ok(())
}
