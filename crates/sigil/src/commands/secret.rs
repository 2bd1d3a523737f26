//! `sigil secret generate|hash`.

use crate::cli::SecretCommand;
use anyhow::Context as _;
use sigil_core::secret::{SecretHash, generate_secret};
use std::io::Read as _;
use std::process::ExitCode;

/// Prints a new secret and its stored form, or the argon2id hash of a secret from stdin.
pub fn run(command: SecretCommand) -> anyhow::Result<ExitCode> {
    match command {
        SecretCommand::Generate => {
            let (secret, hash) = generate_secret();
            println!("secret: {secret}");
            println!("config: {hash}");
        }
        SecretCommand::Hash => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("reading the secret from standard input")?;
            let secret = input.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(!secret.is_empty(), "no secret on standard input");
            println!("{}", SecretHash::argon2id_of(secret)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
