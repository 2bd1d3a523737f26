//! The demo configuration and client that `sigil dev` creates when given no `--config`.

use crate::wiring::Summary;
use anyhow::Context as _;
use sigil_core::secret::generate_secret;
use std::path::{Path, PathBuf};

const TEMPLATE: &str = include_str!("demo.yaml");
const SECRET_FILE: &str = "demo-client-secret";
const CONFIG_FILE: &str = "sigil.yaml";

/// The demo client, as printed at start.
pub struct DemoClient {
    /// The generated configuration file.
    pub config_path: PathBuf,
    /// The demo client's secret, if its file is still there.
    pub secret: Option<String>,
}

/// Creates the demo configuration and secret on first start; later starts reuse them (an
/// edited configuration is never overwritten).
pub fn ensure(data_dir: &Path) -> anyhow::Result<DemoClient> {
    let config_path = data_dir.join(CONFIG_FILE);
    let secret_path = data_dir.join(SECRET_FILE);
    if !config_path.exists() {
        let (secret, hash) = generate_secret();
        write_private(&secret_path, &format!("{secret}\n"))?;
        write_private(
            &config_path,
            &TEMPLATE.replace("{{DEMO_SECRET_HASH}}", &hash.to_string()),
        )?;
    }
    let secret = std::fs::read_to_string(&secret_path)
        .ok()
        .map(|s| s.trim().to_owned());
    Ok(DemoClient {
        config_path,
        secret,
    })
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
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
    let issuer = &summary.issuer;
    let mut text = summary.banner("Sigil dev is running.");
    if let Some(demo) = demo {
        match &demo.secret {
            Some(secret) => text.push_str(&format!(
                "\n  Demo client    id: demo   secret: {secret}\
                 \n                 (also `demo-reference`, same secret, reference tokens)\
                 \n\n  Try it:\n    curl -s -u demo:{secret} -d grant_type=client_credentials {issuer}/connect/token\n"
            )),
            None => text.push_str(&format!(
                "\n  Demo client    id: demo (secret file {SECRET_FILE} was removed; delete {CONFIG_FILE} to make a new one)\n"
            )),
        }
    }
    eprintln!("{text}");
}
