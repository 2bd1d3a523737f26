//! The demo configuration, clients and user that `sigil dev` creates when given no `--config`.

use crate::wiring::Summary;
use anyhow::{Context as _, anyhow};
use sigil_core::handle::new_handle;
use sigil_core::secret::{SecretHash, generate_secret};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const TEMPLATE: &str = include_str!("demo.yaml");
const SECRET_FILE: &str = "demo-client-secret";
const PASSWORD_FILE: &str = "demo-user-password";
const CONFIG_FILE: &str = "sigil.yaml";

/// The demo user of `demo.yaml`.
const DEMO_USER: &str = "demo";
/// The web client of `demo.yaml` that the banner's sign-in example uses.
const WEB_CLIENT: &str = "demo-web";
/// The single-page app of `demo.yaml`, whose browser origins the banner lists.
const SPA_CLIENT: &str = "demo-spa";
/// One of its registered redirect URIs; nothing needs to listen there.
const WEB_REDIRECT_URI: &str = "http://localhost:3000/callback";
const WEB_SCOPES: &str = "openid profile email offline_access api.read";
/// A fixed PKCE verifier and its S256 challenge (RFC 7636 Appendix B), so that the printed
/// URL and the printed code exchange fit together. Real clients make a new one per request.
const EXAMPLE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const EXAMPLE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The demo clients and user, as printed at start.
pub struct DemoClient {
    /// The generated configuration file.
    pub config_path: PathBuf,
    /// The demo clients' secret, if its file is still there.
    pub secret: Option<String>,
    /// The demo user's password, if its file is still there.
    pub user_password: Option<String>,
    /// The origins the single-page app may call from (CORS), as configured.
    pub spa_origins: Vec<String>,
}

impl DemoClient {
    /// Takes the single-page app's CORS origins from the loaded configuration, which may be
    /// an older or edited one.
    pub fn with_spa_origins(mut self, config: &crate::config::Config) -> Self {
        self.spa_origins = config
            .clients
            .iter()
            .find(|client| client.client_id == SPA_CLIENT)
            .map(|client| client.allowed_cors_origins.clone())
            .unwrap_or_default();
        self
    }
}

/// Creates the demo configuration, client secret and user password on first start; later
/// starts reuse them (an edited configuration is never overwritten).
pub fn ensure(data_dir: &Path) -> anyhow::Result<DemoClient> {
    let config_path = data_dir.join(CONFIG_FILE);
    let secret_path = data_dir.join(SECRET_FILE);
    let password_path = data_dir.join(PASSWORD_FILE);
    if !config_path.exists() {
        let (secret, hash) = generate_secret();
        // Short enough to type; 96 random bits are plenty for a local demo.
        let password: String = new_handle().chars().take(16).collect();
        let password_hash = SecretHash::argon2id_of(&password)
            .map_err(|error| anyhow!("hashing the demo user's password: {error}"))?;
        write_private(&secret_path, &format!("{secret}\n"))?;
        write_private(&password_path, &format!("{password}\n"))?;
        write_private(
            &config_path,
            &TEMPLATE
                .replace("{{DEMO_SECRET_HASH}}", &hash.to_string())
                .replace("{{DEMO_USER_PASSWORD_HASH}}", &password_hash.to_string()),
        )?;
    }
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .ok()
            .map(|s| s.trim().to_owned())
    };
    Ok(DemoClient {
        config_path,
        secret: read(&secret_path),
        user_password: read(&password_path),
        spa_origins: Vec::new(),
    })
}

/// Writes a file only its owner can read. A file left from an earlier demo configuration
/// (deleted to get a new one) is replaced: it belongs to the configuration being written.
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(error).with_context(|| format!("replacing {}", path.display()));
        }
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The start-up banner, on standard error so it stays apart from the JSON log lines.
pub fn print_banner(summary: &Summary, demo: Option<&DemoClient>) {
    let mut text = summary.banner("Sigil dev is running.");
    if let Some(demo) = demo {
        text.push_str(&demo_text(&summary.issuer, demo));
    }
    eprintln!("{text}");
}

/// What the banner says about the demo clients and user.
fn demo_text(issuer: &str, demo: &DemoClient) -> String {
    let mut text = String::new();
    // Writing to a String cannot fail.
    match &demo.secret {
        Some(secret) => {
            let _ = write!(
                text,
                "\n  Demo client    id: demo   secret: {secret}\
                 \n                 (also `demo-reference`, same secret, reference tokens)\
                 \n\n  Try it:\n    curl -s -u demo:{secret} -d grant_type=client_credentials {issuer}/connect/token\n"
            );
        }
        None => {
            let _ = write!(
                text,
                "\n  Demo client    id: demo (secret file {SECRET_FILE} was removed; delete {CONFIG_FILE} to make a new one)\n"
            );
        }
    }
    let Some(password) = &demo.user_password else {
        let _ = write!(
            text,
            "\n  Demo user      none ({PASSWORD_FILE} is missing; delete {CONFIG_FILE} to make a new demo configuration)\n"
        );
        return text;
    };
    let secret = demo.secret.as_deref().unwrap_or("SECRET");
    let _ = write!(
        text,
        "\n  Demo user      username: {DEMO_USER}   password: {password}\
         \n  Sign-in apps   {WEB_CLIENT} (web app, same secret), {SPA_CLIENT} (public, PKCE)\n"
    );
    let _ = if demo.spa_origins.is_empty() {
        writeln!(
            text,
            "  Browser apps   none may call from another origin (delete {CONFIG_FILE} for a new demo configuration)"
        )
    } else {
        writeln!(
            text,
            "  Browser apps   {SPA_CLIENT} may call the token, userinfo, revocation and end-session\
             \n                 endpoints from {} (CORS)",
            demo.spa_origins.join(", ")
        )
    };
    if let Some(url) = authorize_url(issuer) {
        let _ = write!(
            text,
            "\n  Sign in with the authorization code flow: open this URL in a browser and sign in as {DEMO_USER}:\
             \n    {url}\
             \n  The browser then lands on {WEB_REDIRECT_URI}?code=...; nothing listens there, so copy\
             \n  the code from the address bar. Exchange it within 5 minutes with the PKCE verifier\
             \n  {EXAMPLE_VERIFIER} (a fixed example; real apps make a new one each time):\
             \n    curl -s -u {WEB_CLIENT}:{secret} -d grant_type=authorization_code -d code=CODE \\\
             \n      -d redirect_uri={WEB_REDIRECT_URI} -d code_verifier={EXAMPLE_VERIFIER} \\\
             \n      {issuer}/connect/token\n"
        );
    }
    text
}

/// The demo web client's authorization request, with the example PKCE challenge.
fn authorize_url(issuer: &str) -> Option<url::Url> {
    url::Url::parse_with_params(
        &format!("{issuer}/connect/authorize"),
        [
            ("client_id", WEB_CLIENT),
            ("response_type", "code"),
            ("redirect_uri", WEB_REDIRECT_URI),
            ("scope", WEB_SCOPES),
            ("state", "demo-state"),
            ("code_challenge", EXAMPLE_CHALLENGE),
            ("code_challenge_method", "S256"),
        ],
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use sigil_core::pkce::{ChallengeMethod, CodeChallenge};

    fn demo(secret: Option<&str>, password: Option<&str>) -> DemoClient {
        DemoClient {
            config_path: PathBuf::from(CONFIG_FILE),
            secret: secret.map(str::to_owned),
            user_password: password.map(str::to_owned),
            spa_origins: Vec::new(),
        }
    }

    fn demo_config() -> Config {
        Config::parse(
            &TEMPLATE
                .replace("{{DEMO_SECRET_HASH}}", "sha256:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg")
                .replace(
                    "{{DEMO_USER_PASSWORD_HASH}}",
                    "$argon2id$v=19$m=19456,t=2,p=1$7Hlkt0OW6SkXRDZlLawjFA$mJ8MzGCFFNeBAnw5c/JY3C7di1zwiha/cpi/pjBVdXI",
                ),
        )
        .unwrap()
    }

    #[test]
    fn the_example_verifier_fits_the_challenge() {
        let challenge = CodeChallenge {
            challenge: EXAMPLE_CHALLENGE.to_owned(),
            method: ChallengeMethod::S256,
        };
        assert!(challenge.verify(EXAMPLE_VERIFIER));
    }

    #[test]
    fn the_printed_request_is_one_the_demo_configuration_allows() {
        let config = demo_config();
        let catalog = config
            .validate(sigil_core::grants::BUILT_IN_GRANT_TYPES)
            .unwrap();
        assert!(
            config
                .user_accounts()
                .iter()
                .any(|a| a.user.username == DEMO_USER)
        );

        let url = authorize_url("http://127.0.0.1:8080").unwrap();
        assert_eq!(url.path(), "/connect/authorize");
        let param = |name: &str| {
            url.query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
                .unwrap()
        };
        let client = catalog.client(&param("client_id")).unwrap();
        assert!(client.has_redirect_uri(&param("redirect_uri")));
        for scope in param("scope").split(' ') {
            assert!(client.allows_scope(scope), "{scope}");
        }
        assert!(!client.is_public());
    }

    #[test]
    fn the_banner_shows_the_user_the_url_and_the_exchange() {
        let text = demo_text(
            "http://127.0.0.1:8080",
            &demo(Some("s3cret"), Some("pa55word")),
        );
        assert!(
            text.contains("username: demo   password: pa55word"),
            "{text}"
        );
        assert!(
            text.contains("http://127.0.0.1:8080/connect/authorize?client_id=demo-web&"),
            "{text}"
        );
        assert!(text.contains(&format!("code_challenge={EXAMPLE_CHALLENGE}")));
        assert!(text.contains("-u demo-web:s3cret -d grant_type=authorization_code"));
        assert!(text.contains(&format!("-d code_verifier={EXAMPLE_VERIFIER}")));

        let without_password = demo_text("http://127.0.0.1:8080", &demo(Some("s3cret"), None));
        assert!(
            without_password.contains("Demo user      none"),
            "{without_password}"
        );
        assert!(!without_password.contains("connect/authorize"));
    }

    #[test]
    fn the_demo_spa_may_call_from_its_local_dev_server_and_the_banner_says_so() {
        let config = demo_config();
        let catalog = config
            .validate(sigil_core::grants::BUILT_IN_GRANT_TYPES)
            .unwrap();
        let spa = catalog.client(SPA_CLIENT).unwrap();
        assert!(spa.is_public());
        for uri in &spa.sign_in.redirect_uris {
            let origin = sigil_core::model::WebOrigin::of_url(uri).unwrap();
            assert!(spa.allows_cors_origin(origin.as_str()), "{uri}");
        }
        assert!(
            catalog
                .client(WEB_CLIENT)
                .unwrap()
                .sign_in
                .allowed_cors_origins
                .is_empty()
        );

        let with_origins = demo(Some("s3cret"), Some("pa55word")).with_spa_origins(&config);
        let text = demo_text("http://127.0.0.1:8080", &with_origins);
        assert!(
            text.contains("from http://localhost:5173, http://127.0.0.1:5173 (CORS)"),
            "{text}"
        );
        let older = demo_text(
            "http://127.0.0.1:8080",
            &demo(Some("s3cret"), Some("pa55word")),
        );
        assert!(
            older.contains("none may call from another origin"),
            "{older}"
        );
    }
}
