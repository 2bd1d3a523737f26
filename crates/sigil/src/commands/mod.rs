//! One file per subcommand.

mod cluster;
mod config_check;
mod dev;
mod grants;
mod keys;
mod secret;
mod serve;
mod smoke;
mod store;

use crate::cli::{Cli, Command, ConfigCommand};
use std::process::ExitCode;

/// A single-threaded runtime for a command that makes a few network calls and exits.
fn command_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Dev(args) => dev::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Store(args) => store::run(args),
        Command::Cluster(command) => cluster::run(command),
        Command::Grants(command) => grants::run(command),
        Command::Config(ConfigCommand::Check { file }) => Ok(config_check::run(&file)),
        Command::Secret(command) => secret::run(command),
        Command::Keys(command) => keys::run(command),
        Command::Smoke(args) => smoke::run(args),
    }
}
