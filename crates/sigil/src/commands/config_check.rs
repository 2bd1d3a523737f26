//! `sigil config check FILE`.

use crate::config::{Config, Issues};
use sigil_core::grants::BUILT_IN_GRANT_TYPES;
use std::path::Path;
use std::process::ExitCode;

/// Prints every problem with its path, or a summary; exit status 1 if there are problems.
/// Warnings (settings that work but that a deployment should know about) are printed too and
/// do not change the exit status.
pub fn run(file: &Path) -> ExitCode {
    let config = match Config::load(file) {
        Ok(config) => config,
        Err(error) => {
            // With its causes, as every other command prints errors.
            eprintln!("{}: {:#}", file.display(), anyhow::Error::new(error));
            return ExitCode::FAILURE;
        }
    };
    for warning in &warnings(&config).0 {
        eprintln!("{}: warning: {warning}", file.display());
    }
    match config.validate(BUILT_IN_GRANT_TYPES) {
        Ok(catalog) => {
            let (identity_scopes, api_scopes): (Vec<&str>, Vec<&str>) = catalog
                .scope_names()
                .into_iter()
                .partition(|scope| catalog.is_identity_scope(scope));
            println!(
                "{}: ok ({} clients, {} API resources, {} API scopes, {} identity scopes, {} users); signs with {}",
                file.display(),
                catalog.client_count(),
                catalog.resources().len(),
                api_scopes.len(),
                identity_scopes.len(),
                config.users.len(),
                config.signing_algorithms()
            );
            ExitCode::SUCCESS
        }
        Err(issues) => {
            for issue in &issues.0 {
                eprintln!("{}: {issue}", file.display());
            }
            eprintln!("{} problem(s) found", issues.0.len());
            ExitCode::FAILURE
        }
    }
}

/// What works but deserves a look: timings common validators cannot keep up with, and a
/// missing issuer (which `sigil serve` refuses; `sigil dev` derives one).
fn warnings(config: &Config) -> Issues {
    let mut warnings = config.signing.warnings();
    if config.server.issuer.is_none() {
        warnings.push(
            "server.issuer",
            "not set: `sigil serve` refuses to start without it (or --issuer / SIGIL_ISSUER); \
             only `sigil dev` defaults to http://<listen address>",
        );
    }
    warnings
}
