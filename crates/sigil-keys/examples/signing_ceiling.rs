//! The raw in-process signing ceiling: how many typical access tokens this machine can sign
//! per second with a pre-parsed aws-lc-rs key on N threads. The benchmark divides the token
//! endpoint's throughput by this figure.
//!
//! The RFC 9068 claims and the header are built and encoded once; each iteration signs
//! `header.payload`, base64url-encodes the signature and assembles the compact JWS, as the
//! server does.
//!
//! ```text
//! cargo run --release -p sigil-keys --example signing_ceiling -- --alg ES256 --threads 2 --seconds 5
//! ```
//!
//! Prints one line of JSON:
//! `{"alg":"ES256","threads":2,"seconds":5.0,"signatures":...,"per_second":...}`.

use aws_lc_rs::rand::SystemRandom;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sigil_keys::{Algorithm, SigningKey};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

struct Args {
    alg: Algorithm,
    threads: usize,
    seconds: u64,
}

fn parse_args() -> Result<Args, Box<dyn std::error::Error>> {
    let mut parsed = Args {
        alg: Algorithm::RS256,
        threads: 2,
        seconds: 5,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--alg" => parsed.alg = value.parse()?,
            "--threads" => parsed.threads = value.parse()?,
            "--seconds" => parsed.seconds = value.parse()?,
            other => {
                return Err(format!(
                    "unknown flag {other} (--alg RS256|ES256|PS256|EdDSA --threads N --seconds S)"
                )
                .into());
            }
        }
    }
    if parsed.threads == 0 {
        return Err("--threads must be at least 1".into());
    }
    Ok(parsed)
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("signing_ceiling: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let Args {
        alg,
        threads,
        seconds,
    } = parse_args()?;
    let (key, _) = SigningKey::generate(alg)?;
    let key = Arc::new(key);
    let claims = serde_json::json!({
        "iss": "https://sigil.example.com",
        "sub": "svc-reporting",
        "aud": "https://api.example.com",
        "client_id": "svc-reporting",
        "scope": "reports.read reports.write",
        "iat": 1_800_000_000u64,
        "exp": 1_800_003_600u64,
        "jti": "u6os71Ml3StRo0C2vc5GIg",
    })
    .to_string();
    let signing_input: Arc<str> = format!(
        "{}.{}",
        key.encoded_header("at+jwt"),
        URL_SAFE_NO_PAD.encode(&claims)
    )
    .into();

    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (key, input, stop, count) = (
                key.clone(),
                signing_input.clone(),
                stop.clone(),
                count.clone(),
            );
            std::thread::spawn(move || -> Result<(), String> {
                let rng = SystemRandom::new();
                let mut signed = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let signature = key
                        .sign_local(&rng, input.as_bytes())
                        .map_err(|e| e.to_string())?;
                    let mut token = String::with_capacity(input.len() + 1 + signature.len() * 2);
                    token.push_str(&input);
                    token.push('.');
                    URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
                    std::hint::black_box(token);
                    signed += 1;
                }
                count.fetch_add(signed, Ordering::Relaxed);
                Ok(())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().map_err(|_| "a signing thread panicked")??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let signatures = count.load(Ordering::Relaxed);
    println!(
        r#"{{"alg":"{alg}","threads":{threads},"seconds":{elapsed:.3},"signatures":{signatures},"per_second":{:.1}}}"#,
        signatures as f64 / elapsed
    );
    Ok(())
}
