//! `sigil grants revoke`: removes a user's or a client's grants from the store cluster, for
//! an account that was compromised or closed, or a client that was retired.
//!
//! Works on the cluster that `sigil serve` uses, with the same endpoints and timeout. The
//! embedded store of `sigil dev` belongs to that one process and is not reachable from here.

use super::serve::store_endpoints;
use crate::cli::{GrantsCommand, RevokeArgs};
use crate::config::Config;
use anyhow::{Context as _, bail};
use sigil_core::store::{GrantStore as _, RevokeTarget};
use sigil_store_client::{ClientOptions, StoreClient};
use std::process::ExitCode;

/// Runs one `sigil grants` subcommand.
pub fn run(command: GrantsCommand) -> anyhow::Result<ExitCode> {
    match command {
        GrantsCommand::Revoke(args) => revoke(args),
    }
}

fn revoke(args: RevokeArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(&args.config)?;
    if [&args.subject, &args.client]
        .into_iter()
        .flatten()
        .any(|id| id.trim().is_empty())
    {
        bail!("the subject or client id must not be empty");
    }
    let (target, whose) = match (args.subject, args.client) {
        (Some(subject), None) => (
            RevokeTarget::Subject(subject.clone()),
            format!(
                "of user `{subject}` (refresh tokens, reference access tokens, remembered \
                 consent and sign-in sessions)"
            ),
        ),
        // Sign-in sessions belong to the user, not to a client, and stay.
        (None, Some(client)) => (
            RevokeTarget::Client(client.clone()),
            format!(
                "issued to client `{client}` (refresh tokens, reference access tokens and \
                 remembered consent)"
            ),
        ),
        // clap requires exactly one of the two.
        _ => bail!("give exactly one of --subject and --client"),
    };
    let named = |endpoints: &[String]| endpoints.iter().any(|e| !e.trim().is_empty());
    if !named(&args.store) && !named(&config.store.endpoints) {
        bail!(
            "{} names no grant store cluster, and `sigil grants` works on the cluster that \
             `sigil serve` uses: pass --store http://store-0:7001,... (or SIGIL_STORE), or set \
             store.endpoints in the file.\nThe embedded store of `sigil dev` cannot be reached \
             from another process; to drop every grant it holds, stop `sigil dev` and delete \
             the `store` directory under its data directory.",
            args.config.display()
        );
    }
    let endpoints = store_endpoints(&args.store, &config.store.endpoints)?;
    let options = ClientOptions::default().with_request_timeout(config.store.request_timeout);

    let removed = super::command_runtime()?.block_on(async move {
        let description = endpoints.join(", ");
        let client = StoreClient::connect(endpoints, options)
            .context("configuring the grant store client")?;
        client
            .revoke(target)
            .await
            .with_context(|| format!("revoking grants in the store cluster {description}"))
    })?;
    println!(
        "Revoked {removed} grant{} {whose}.\n\
         JWT access tokens already issued stay valid until they expire.",
        if removed == 1 { "" } else { "s" }
    );
    Ok(ExitCode::SUCCESS)
}
