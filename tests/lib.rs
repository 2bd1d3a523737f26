//! What the end-to-end tests (`e2e/`, one test binary, a module per feature) share: the
//! configurations in `configs/` (one feature each) and their secrets, and helpers several
//! modules use; [`signin`] for the sign-in modules. The tests start real `sigil` processes
//! (built by `cargo build -p sigil`) through `sigil_testkit` and drive them over HTTP on
//! loopback.
//!
//! ## The helper convention
//!
//! - Processes and doubles come from `sigil_testkit`, as handle types started by an async
//!   constructor on the type (`SigilDev::start(Some(&config("tokens.yaml", &[])))`,
//!   `StoreCluster::start(3)`, `SigilDev::start_pod(&cluster.dir("pod"), &config, &store)`),
//!   which return a `Result` that the test unwraps at the call. Dropping a handle stops it.
//! - Configuration text is built from `configs/<feature>.yaml`: [`config`] fills `{{NAME}}`
//!   placeholders for a `sigil dev`; [`pod_config_of`] (or [`deployment_config`], which also
//!   generates the keys) adds what the pods of one deployment share.
//! - Helpers here and in the test modules take the handle (`&SigilDev`) or the endpoint they
//!   act on, return plain values, and panic with what they saw: a panic is a failed test, and
//!   the test reads as its steps. Helpers that would be useful outside the tests (a client, a
//!   double, a parser) belong in `sigil_testkit` instead, returning `Result`.

/// The plaintext of every client secret in `configs/` (stored there as `sha256:`).
pub const CLIENT_SECRET: &str = "client-secret-for-tests";

/// The plaintext of every API introspection secret in `configs/`.
pub const API_SECRET: &str = "api-secret-for-tests";

/// A configuration file from `configs/`, with `{{NAME}}` placeholders replaced.
pub fn config(name: &str, replacements: &[(&str, &str)]) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("configs")
        .join(name);
    let mut text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (name, value) in replacements {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    text
}

/// The issuer every `sigil serve` pod of a test shares.
pub const POD_ISSUER: &str = "http://sigil.test";

/// `tokens.yaml` for a `sigil serve` pod: the shared issuer and ES256 keys from the `file`
/// source in `keys`, as every pod of one deployment has.
pub fn pod_config(keys: &std::path::Path) -> String {
    pod_config_of("tokens.yaml", keys)
}

/// [`pod_config`] for another file from `configs/` (one without `server` or `signing`).
pub fn pod_config_of(name: &str, keys: &std::path::Path) -> String {
    format!(
        "{}\nserver: {{ issuer: \"{POD_ISSUER}\" }}\n\
         signing: {{ algorithm: ES256, source: {{ kind: file, path: \"{}\" }} }}\n",
        config(name, &[]),
        keys.display()
    )
}

/// The configuration the pods of one deployment over `cluster` share: `configs/<name>` with
/// [`pod_config_of`]'s issuer and `file` key source in the cluster's `keys` folder, followed by
/// `extra`, with keys generated there by `sigil keys generate`. Returns the configuration text.
pub fn deployment_config(
    cluster: &sigil_testkit::cluster::StoreCluster,
    name: &str,
    extra: &str,
) -> String {
    let config = format!("{}{extra}", pod_config_of(name, &cluster.dir("keys")));
    let config_path = cluster.dir("keys-config.yaml");
    std::fs::write(&config_path, &config)
        .unwrap_or_else(|e| panic!("writing {}: {e}", config_path.display()));
    sigil_keys(&["generate"], &config_path, &[]);
    config
}

/// One `sigil serve` pod in `dir` against the store at `store`, with [`pod_config`] and a
/// fresh signing key written to `keys`; panics if it does not start.
pub async fn pod_with_new_key(
    keys: &std::path::Path,
    dir: &std::path::Path,
    store: &str,
) -> sigil_testkit::SigilDev {
    use sigil_testkit::cluster::write_signing_key;
    write_signing_key(keys).unwrap_or_else(|e| panic!("writing a signing key: {e}"));
    sigil_testkit::SigilDev::start_pod(dir, &pod_config(keys), store)
        .await
        .unwrap_or_else(|e| panic!("starting a pod: {e}"))
}

/// The password of user `alice` in `configs/signin.yaml` (stored there as argon2id).
pub const ALICE_PASSWORD: &str = "alice-password-for-tests";

/// The password of user `bob` in `configs/signin.yaml` (stored there as argon2id).
pub const BOB_PASSWORD: &str = "bob-password-for-tests";

pub mod signin;

/// Issues a client-credentials token for `client` (secret [`CLIENT_SECRET`]); panics unless 200.
pub async fn issue_token(sigil: &sigil_testkit::SigilDev, client: &str) -> String {
    use sigil_testkit::client::{basic, post_form};
    let answer = post_form(
        &sigil.url("/connect/token"),
        Some(&basic(client, CLIENT_SECRET)),
        "grant_type=client_credentials",
    )
    .await
    .unwrap_or_else(|e| panic!("token request: {e}"));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer
        .body
        .get("access_token")
        .and_then(|t| t.as_str())
        .unwrap_or_default()
        .to_owned()
}

/// The API that introspects in `configs/`: its id and secret ([`API_SECRET`]).
pub const ORDERS_API: (&str, &str) = ("https://orders.test", API_SECRET);

/// `token` introspected at `sigil` with `who`'s Basic credentials (id, secret); panics if no
/// answer comes.
pub async fn introspect(
    sigil: &sigil_testkit::SigilDev,
    who: (&str, &str),
    token: &str,
) -> sigil_testkit::client::Answer {
    use sigil_testkit::client::{basic, form, post_form};
    post_form(
        &sigil.url("/connect/introspect"),
        Some(&basic(who.0, who.1)),
        &form(&[("token", token)]),
    )
    .await
    .unwrap_or_else(|e| panic!("introspection request: {e}"))
}

/// Whether `token` is active as [`ORDERS_API`] sees it at `sigil`; panics unless the answer is
/// 200.
pub async fn active_for_api(sigil: &sigil_testkit::SigilDev, token: &str) -> bool {
    let answer = introspect(sigil, ORDERS_API, token).await;
    assert_eq!(answer.status, 200, "introspection: {:?}", answer.body);
    answer.body["active"] == true
}

/// Runs `sigil keys ARGS --config CONFIG` with extra environment variables; panics unless it
/// succeeds, and returns its standard output.
pub fn sigil_keys(args: &[&str], config: &std::path::Path, env: &[(&str, &str)]) -> String {
    let output = std::process::Command::new(sigil_testkit::sigil_binary().unwrap_or_default())
        .arg("keys")
        .args(args)
        .arg("--config")
        .arg(config)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("running sigil keys: {e}"));
    assert!(
        output.status.success(),
        "sigil keys {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The `kid` in a JWT's header.
pub fn kid_of(token: &str) -> String {
    let header = jsonwebtoken::decode_header(token).unwrap_or_else(|e| panic!("{e}"));
    header.kid.unwrap_or_default()
}

/// The address a pod's log says it is serving on (logged before it is ready, so a test can
/// reach a pod that is not ready yet).
pub async fn serving_address(log: &std::path::Path) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let serving = text
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|line| line["message"] == "serving");
        if let Some(line) = serving {
            return line["listen"].as_str().unwrap().to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no `serving` line in {}",
            log.display()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// What [`sigil_testkit::load`] sends to pods configured with `configs/load.yaml`: JWT and
/// reference access tokens, and refresh rotation after alice signs in, from `workers` workers,
/// half of them on keep-alive connections and half on a new connection per request.
pub fn load_plan(url: &str, workers: usize) -> sigil_testkit::load::LoadPlan {
    use sigil_testkit::load::{LoadPlan, ServiceClient, WebClient};
    let service = |client_id: &str| ServiceClient {
        client_id: client_id.into(),
        secret: CLIENT_SECRET.into(),
        scope: "orders.read".into(),
    };
    LoadPlan {
        url: url.into(),
        workers,
        jwt: Some(service("jwt-client")),
        reference: Some(service("ref-client")),
        refresh: Some(WebClient {
            client_id: "web".into(),
            secret: CLIENT_SECRET.into(),
            redirect_uri: "http://app.test/callback".into(),
            scope: "openid offline_access orders.read".into(),
            username: "alice".into(),
            password: ALICE_PASSWORD.into(),
        }),
        request_timeout: std::time::Duration::from_secs(30),
        connections: sigil_testkit::load::Connections::Mixed,
    }
}
