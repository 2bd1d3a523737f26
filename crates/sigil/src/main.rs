//! # sigil — the binary
//!
//! One binary, several roles: `sigil dev` (token service and embedded grant store in one
//! process, for a laptop), `sigil serve` (the stateless token service in front of a store
//! cluster), `sigil config check`, `sigil secret` to mint client secrets, and
//! `sigil grants revoke` to withdraw a user's or a client's grants.
//! This crate parses flags and configuration and wires the library crates together; protocol
//! logic lives in `sigil-core`, HTTP in `sigil-server`, keys in `sigil-keys`, storage in
//! `sigil-store`.

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
