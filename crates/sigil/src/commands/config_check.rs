//! `sigil config check FILE`.

use crate::config::Config;
use sigil_core::grants::BUILT_IN_GRANT_TYPES;
use std::path::Path;
use std::process::ExitCode;

/// Prints every problem with its path, or a summary; exit status 1 if there are problems.
pub fn run(file: &Path) -> ExitCode {
    let config = match Config::load(file) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{}: {error}", file.display());
            return ExitCode::FAILURE;
        }
    };
    match config.validate(BUILT_IN_GRANT_TYPES) {
        Ok(catalog) => {
            let (identity_scopes, api_scopes): (Vec<&str>, Vec<&str>) = catalog
                .scope_names()
                .into_iter()
                .partition(|scope| catalog.is_identity_scope(scope));
            println!(
                "{}: ok ({} clients, {} API resources, {} API scopes, {} identity scopes, {} users)",
                file.display(),
                catalog.client_count(),
                catalog.resources().len(),
                api_scopes.len(),
                identity_scopes.len(),
                config.users.len()
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
