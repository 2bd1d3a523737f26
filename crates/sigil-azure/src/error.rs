//! Errors: why a source could not be set up, and the scrubbed form in which Azure SDK failures
//! are passed on.

use std::path::PathBuf;

/// Why an [`AzureKeySource`](crate::AzureKeySource) could not be built from its configuration.
/// (Failures talking to Azure come later, from `load`, as `KeySourceError::Unavailable`.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AzureSetupError {
    /// A file named in the configuration could not be read.
    #[error("cannot read the {what} {path}")]
    ReadFile {
        /// What the file is for, such as `client secret file`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The environment variable holding the client secret is unset, empty or not UTF-8.
    #[error("environment variable {0} does not hold a client secret")]
    MissingSecretEnv(String),
    /// `ca_file` holds no PEM certificate.
    #[error("{0} holds no PEM certificate")]
    NoCertificate(PathBuf),
    /// The Azure SDK refused the settings (a credential missing its tenant, client id or
    /// token file, or an invalid authority host).
    #[error("cannot set up the {what}")]
    Sdk {
        /// What was being built, such as `workload identity credential`.
        what: &'static str,
        /// The SDK's reason.
        #[source]
        cause: AzureFailure,
    },
}

/// An Azure SDK failure, reduced to text: the messages of the error and its causes and the HTTP
/// status, if any. The SDK's error is not kept, so nothing that prints it with `{:?}` later
/// can reach the raw response it carries; none of the text comes from request headers or
/// bodies, so neither tokens nor secrets appear in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AzureFailure(String);

impl AzureFailure {
    /// The text of `error` and its chain of causes, prefixed with `context` (an operation and
    /// the object's URL).
    pub(crate) fn new(context: &str, error: &azure_core::Error) -> Self {
        let mut text = context.to_owned();
        if let Some(status) = error.http_status() {
            text.push_str(&format!(" (HTTP {})", u16::from(status)));
        }
        let mut cause: Option<&dyn std::error::Error> = Some(error);
        let mut last = String::new();
        while let Some(err) = cause {
            let message = err.to_string();
            // The SDK often repeats a message one level down.
            if !message.is_empty() && message != last {
                text.push_str(": ");
                text.push_str(&message);
            }
            last = message;
            cause = err.source();
        }
        Self(text)
    }

    /// A failure described without an SDK error.
    pub(crate) fn message(text: String) -> Self {
        Self(text)
    }
}
