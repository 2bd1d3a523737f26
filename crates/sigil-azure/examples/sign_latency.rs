//! Measures what key mode costs per token: one `sign` round trip to the vault. Runs against
//! the local Key Vault double (HTTPS on loopback), so it shows the client-side overhead of the
//! SDK pipeline plus a loopback TLS round trip; a real vault adds its network latency.
//!
//! `cargo run -p sigil-azure --example sign_latency [--release] -- [signatures]`

use aws_lc_rs::rand::SystemRandom;
use serde_json::json;
use sigil_azure::{AzureConfig, AzureKeySource};
use sigil_keys::KeySource;
use sigil_testkit::keyvault::{KeyKind, KeyVaultDouble, VersionSpec};
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(500);
    let double = KeyVaultDouble::start().await?;
    double.register_client_secret("bench", "bench-secret");
    let dir = tempfile::tempdir()?;
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, "bench-secret")?;
    for (name, kind) in [("rsa", KeyKind::Rsa2048), ("ec", KeyKind::EcP256)] {
        double.add_key_version(name, kind, VersionSpec::created_at(0))?;
        let config: AzureConfig = serde_json::from_value(json!({
            "vault_url": double.vault_url(),
            "key": name,
            "credential": {
                "type": "client_secret",
                "tenant_id": double.tenant_id(),
                "client_id": "bench",
                "secret_file": secret_file,
                "authority_host": double.authority_host(),
            },
            "ca_file": double.ca_file(),
            "verify_challenge_resource": false,
        }))?;
        let source = AzureKeySource::new(&config)?;
        let set = source.load().await?;
        let key = set
            .signing
            .first()
            .ok_or_else(|| anyhow::anyhow!("no key"))?;
        let rng = SystemRandom::new();
        // Warm up: the first call meets the challenge and fetches a token.
        key.sign(&rng, b"warm.up").await?;
        let mut times = Vec::with_capacity(rounds);
        for i in 0..rounds {
            let message = format!("eyJhbGciOiJ9.{i}");
            let start = Instant::now();
            key.sign(&rng, message.as_bytes()).await?;
            times.push(start.elapsed());
        }
        times.sort();
        let mean = times.iter().sum::<Duration>() / u32::try_from(rounds.max(1))?;
        let at = |q: f64| times.get(((rounds as f64 * q) as usize).min(rounds.saturating_sub(1)));
        println!(
            "{} via Key Vault double: {rounds} sequential signs, mean {mean:?}, p50 {:?}, p99 {:?}",
            key.alg(),
            at(0.50).copied().unwrap_or_default(),
            at(0.99).copied().unwrap_or_default(),
        );
    }
    Ok(())
}
