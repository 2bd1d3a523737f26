//! What every test needs: a double, a client for it, and key files.

use sigil_keys::key_files::session_secret_jwk;
use sigil_keys::{Algorithm, SessionSecret, SigningKey};
use sigil_kube::{KubeSecretKeySource, install_crypto_provider};
use sigil_testkit::kube_api::FakeKubeApi;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

/// The namespace every test uses.
pub const NAMESPACE: &str = "sigil";

/// An upper bound for things that happen in milliseconds, so that a broken watch fails the
/// test instead of hanging it.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A client for the double: plain HTTP, no credentials, nothing from the environment.
pub fn client(api: &FakeKubeApi) -> kube::Client {
    install_crypto_provider();
    let config = kube::Config::new(api.url().parse().unwrap());
    kube::Client::try_from(config).unwrap()
}

/// A source for `secrets` in [`NAMESPACE`] on the double.
pub fn source(api: &FakeKubeApi, secrets: &[&str]) -> KubeSecretKeySource {
    KubeSecretKeySource::new(client(api), NAMESPACE, secrets.iter().copied())
        .unwrap()
        .with_request_timeout(Duration::from_secs(5))
}

/// `NAME.pem` holding a new P-256 key, and the key's id.
pub fn pem_file(name: &str) -> (BTreeMap<String, Vec<u8>>, String) {
    let (key, pem) = SigningKey::generate(Algorithm::ES256).unwrap();
    let files = BTreeMap::from([(format!("{name}.pem"), pem.into_bytes())]);
    (files, key.kid().to_owned())
}

/// `ID.jwk` holding a new session secret.
pub fn session_secret_file(id: &str) -> BTreeMap<String, Vec<u8>> {
    let secret = SessionSecret::generate(id).unwrap();
    BTreeMap::from([(format!("{id}.jwk"), session_secret_jwk(&secret))])
}

/// The key ids a load returns, sorted.
pub async fn loaded_kids(source: &KubeSecretKeySource) -> Vec<String> {
    use sigil_keys::KeySource as _;
    let keys = source.load().await.unwrap();
    let mut kids: Vec<String> = keys
        .signing
        .iter()
        .map(|key| key.kid().to_owned())
        .collect();
    kids.sort();
    kids
}

/// Runs `attempt` every 50 ms until it returns `Some`, for at most [`PATIENCE`].
pub async fn eventually<T, F: Future<Output = Option<T>>>(mut attempt: impl FnMut() -> F) -> T {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = attempt().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
