//! The Entra ID credential a source authenticates with, built from [`CredentialConfig`].

use crate::config::CredentialConfig;
use crate::error::{AzureFailure, AzureSetupError};
use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::ClientOptions;
use azure_identity::{
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use std::sync::Arc;

/// Builds the credential. `options` carries the shared transport and retries; an
/// `authority_host` from the configuration is added here.
pub(crate) fn credential(
    config: &CredentialConfig,
    options: &ClientOptions,
) -> Result<Arc<dyn TokenCredential>, AzureSetupError> {
    match config {
        CredentialConfig::WorkloadIdentity {
            tenant_id,
            client_id,
            token_file,
            authority_host,
        } => {
            let credential =
                WorkloadIdentityCredential::new(Some(WorkloadIdentityCredentialOptions {
                    credential_options: ClientAssertionCredentialOptions {
                        client_options: with_authority(options, authority_host.as_deref()),
                    },
                    client_id: client_id.clone(),
                    tenant_id: tenant_id.clone(),
                    token_file_path: token_file.clone(),
                }))
                .map_err(sdk("workload identity credential"))?;
            Ok(credential)
        }
        CredentialConfig::ManagedIdentity {
            client_id,
            object_id,
            resource_id,
        } => {
            let user_assigned_id = client_id
                .clone()
                .map(UserAssignedId::ClientId)
                .or_else(|| object_id.clone().map(UserAssignedId::ObjectId))
                .or_else(|| resource_id.clone().map(UserAssignedId::ResourceId));
            let credential =
                ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                    user_assigned_id,
                    client_options: options.clone(),
                }))
                .map_err(sdk("managed identity credential"))?;
            Ok(credential)
        }
        CredentialConfig::ClientSecret {
            tenant_id,
            client_id,
            secret_file,
            secret_env,
            authority_host,
        } => {
            let secret = read_secret(secret_file.as_deref(), secret_env.as_deref())?;
            let credential = ClientSecretCredential::new(
                tenant_id,
                client_id.clone(),
                Secret::new(secret),
                Some(ClientSecretCredentialOptions {
                    client_options: with_authority(options, authority_host.as_deref()),
                }),
            )
            .map_err(sdk("client secret credential"))?;
            Ok(credential)
        }
    }
}

/// `options` with a custom cloud whose authority host is `authority_host`, if given; without
/// one the SDK reads `AZURE_AUTHORITY_HOST`.
fn with_authority(options: &ClientOptions, authority_host: Option<&str>) -> ClientOptions {
    let mut options = options.clone();
    if let Some(host) = authority_host {
        let mut cloud = CustomConfiguration::default();
        cloud.authority_host = host.to_owned();
        options.cloud = Some(Arc::new(CloudConfiguration::Custom(cloud)));
    }
    options
}

/// The client secret, from the file or the environment variable (the configuration checked
/// that exactly one is set).
fn read_secret(
    file: Option<&std::path::Path>,
    env: Option<&str>,
) -> Result<String, AzureSetupError> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| AzureSetupError::ReadFile {
            what: "client secret file",
            path: path.to_owned(),
            source,
        })?;
        return Ok(text.trim_end_matches(['\r', '\n']).to_owned());
    }
    let name = env.unwrap_or_default();
    match std::env::var(name) {
        Ok(secret) if !secret.is_empty() => Ok(secret),
        _ => Err(AzureSetupError::MissingSecretEnv(name.to_owned())),
    }
}

fn sdk(what: &'static str) -> impl Fn(azure_core::Error) -> AzureSetupError {
    move |e| AzureSetupError::Sdk {
        what,
        cause: AzureFailure::new(what, &e),
    }
}
