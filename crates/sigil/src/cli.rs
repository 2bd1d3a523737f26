//! Command-line interface. Every flag that overrides configuration also reads a `SIGIL_*`
//! environment variable.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Sigil: an OAuth 2.0 / OpenID Connect token service.
#[derive(Debug, Parser)]
#[command(name = "sigil", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the token service with an embedded single-node grant store and a generated,
    /// persisted signing key, for development.
    Dev(DevArgs),
    /// Work with configuration files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Make client or API secrets.
    #[command(subcommand)]
    Secret(SecretCommand),
}

/// Flags of `sigil dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Configuration file; without it a demo configuration is created under the data directory.
    #[arg(long, env = "SIGIL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "SIGIL_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Issuer identifier; defaults to http://<listen address>.
    #[arg(long, env = "SIGIL_ISSUER")]
    pub issuer: Option<String>,
    /// Directory for keys and grant store data.
    #[arg(long, env = "SIGIL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log format.
    #[arg(long, env = "SIGIL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Pretty,
}

/// `sigil config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a configuration file and explain every problem.
    Check {
        /// The file.
        file: PathBuf,
    },
}

/// `sigil secret …`.
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Generate a high-entropy secret; prints the secret and the `sha256:` value for the config.
    Generate,
    /// Hash a human-chosen secret read from standard input as argon2id.
    Hash,
}
