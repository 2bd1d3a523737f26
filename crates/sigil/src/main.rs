//! # sigil — the binary
//!
//! One binary, several roles. The subcommands (`sigil --help` shows their flags):
//!
//! - `sigil dev` — the token service and an embedded single-node grant store in one process,
//!   with a generated, persisted signing key: for a laptop.
//! - `sigil serve` — the stateless token service in front of a `sigil store` cluster: the
//!   production mode, any number of replicas sharing one configuration and one key source.
//! - `sigil store` — one node of the replicated grant store (Raft over gRPC).
//! - `sigil cluster status|add|remove` — inspect and change a running store cluster.
//! - `sigil grants revoke` — withdraw a user's or a client's grants (refresh tokens, reference
//!   tokens, remembered consent, sessions).
//! - `sigil config check` — validate a configuration file, every problem with its path.
//! - `sigil secret generate|hash` — make client or API secrets.
//! - `sigil keys list|generate|rotate` — the signing keys and session secrets of the key source.
//! - `sigil smoke` — check a running deployment as a client would (the Helm chart's test).
//!
//! **Where to start:** [`cli`] declares the flags, [`commands`] has one file per subcommand,
//! [`config`] loads and validates the configuration file, and [`wiring`] builds the running
//! service from it (keys, grant store, the core's services, the HTTP server).
//!
//! **What it does not contain:** protocol logic (in `sigil-core`), HTTP handling
//! (`sigil-server`), keys (`sigil-keys`), storage (`sigil-store`). No adapter types either:
//! the key ring implements the core's traits itself.

mod cli;
mod commands;
mod config;
mod logging;
mod wiring;

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
