//! `sigil dev`: the token service and an embedded single-node grant store in one process.
//!
//! Everything lives under the data directory (default `./.sigil`): the signing key (generated
//! once, reused on every start), the grant store, and — unless `--config` is given — a demo
//! configuration with demo clients and a demo user, whose secret and password are printed at
//! start with a sign-in URL to try.

mod demo;

use crate::cli::DevArgs;
use crate::config::Config;
use crate::wiring::{self, Settings, StoreChoice};
use anyhow::Context as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Runs until interrupted (Ctrl-C or SIGTERM), then shuts the store down cleanly.
pub fn run(args: DevArgs) -> anyhow::Result<ExitCode> {
    let _logs = crate::logging::init(args.log_format);
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(".sigil"));
    create_private_dir(&data_dir)?;

    let (config_path, demo_client) = match &args.config {
        Some(path) => (path.clone(), None),
        None => {
            let demo = demo::ensure(&data_dir)?;
            (demo.config_path.clone(), Some(demo))
        }
    };
    let config = Config::load(&config_path)?;
    let demo_client = demo_client.map(|demo| demo.with_spa_origins(&config));
    // Flags and SIGIL_* variables override the file; the file overrides defaults.
    let data_dir = match (&args.data_dir, &config.server.data_dir) {
        (None, Some(from_file)) => from_file.clone(),
        _ => data_dir,
    };
    let listen: SocketAddr = match args.listen.or(config.server.listen) {
        Some(listen) => listen,
        None => DEFAULT_LISTEN.parse().context("default listen address")?,
    };
    let ops_listen = args.ops_listen.or(config.server.ops_listen);
    let settings = Settings {
        config,
        config_path,
        listen,
        ops_listen,
        issuer: args.issuer.clone(),
        store: StoreChoice::Embedded { data_dir },
    };

    wiring::serve_until_stopped(settings, |summary| {
        demo::print_banner(summary, demo_client.as_ref());
    })?;
    Ok(ExitCode::SUCCESS)
}

fn create_private_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {}", dir.display()))?;
    }
    Ok(())
}
