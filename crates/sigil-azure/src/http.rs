//! The HTTP settings every Azure client of a source shares: retries, and the transport when
//! an extra root CA is configured.
//!
//! Without `ca_file` the SDK's own reqwest client is used. It verifies servers with
//! rustls-platform-verifier, which on Linux reads the roots through rustls-native-certs: the
//! system store, or only `SSL_CERT_FILE` / `SSL_CERT_DIR` when set. With `ca_file` this
//! module builds the same kind of client (same timeouts, no redirects) with the file's
//! certificates added to those roots.

use crate::config::AzureConfig;
use crate::error::{AzureFailure, AzureSetupError};
use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions, Transport};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// As the SDK's default client: connection and read timeouts.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Client options for the vault clients and the credential.
pub(crate) fn client_options(config: &AzureConfig) -> Result<ClientOptions, AzureSetupError> {
    let mut options = ClientOptions {
        retry: if config.max_retries == 0 {
            RetryOptions::none()
        } else {
            RetryOptions::exponential(ExponentialRetryOptions {
                max_retries: config.max_retries,
                ..ExponentialRetryOptions::default()
            })
        },
        ..ClientOptions::default()
    };
    if let Some(ca_file) = &config.ca_file {
        options.transport = Some(Transport::new(Arc::new(client_trusting(ca_file)?)));
    }
    Ok(options)
}

/// A reqwest client that also trusts the PEM certificates in `ca_file`.
fn client_trusting(ca_file: &Path) -> Result<reqwest_azure::Client, AzureSetupError> {
    let pem = std::fs::read(ca_file).map_err(|source| AzureSetupError::ReadFile {
        what: "CA file",
        path: ca_file.to_owned(),
        source,
    })?;
    let roots = reqwest_azure::Certificate::from_pem_bundle(&pem)
        .ok()
        .filter(|roots| !roots.is_empty())
        .ok_or_else(|| AzureSetupError::NoCertificate(ca_file.to_owned()))?;
    reqwest_azure::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        // Key Vault does not redirect; the SDK's own client refuses redirects too.
        .redirect(reqwest_azure::redirect::Policy::none())
        .tls_certs_merge(roots)
        .build()
        .map_err(|e| AzureSetupError::Sdk {
            what: "HTTP client",
            cause: AzureFailure::message(e.to_string()),
        })
}
