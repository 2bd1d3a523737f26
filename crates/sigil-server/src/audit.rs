//! Audit events: one structured log record per security-relevant outcome, under the
//! `sigil::audit` target so they can be routed apart from operational logs.
//! Records never contain tokens, secrets or assertions.

use sigil_core::endpoint::Failure;

pub use sigil_core::audit::TARGET;

/// A token was issued.
pub fn token_issued(client_id: &str, grant_type: &str, scope: Option<&str>) {
    tracing::info!(target: TARGET, event = "token_issued", client_id, grant_type, scope);
}

/// A request to `endpoint` failed; client authentication failures get their own record.
pub fn request_failed(endpoint: &'static str, failure: &Failure) {
    let client_id = failure.client_id.as_deref();
    if let Some(reason) = &failure.auth_failure {
        tracing::warn!(
            target: TARGET,
            event = "client_authentication_failed",
            endpoint,
            client_id,
            reason = %reason,
        );
    }
    tracing::info!(
        target: TARGET,
        event = "request_failed",
        endpoint,
        client_id,
        error = failure.error.code.as_str(),
        description = %failure.error.description,
    );
}

/// A token was revoked.
pub fn token_revoked(client_id: &str) {
    tracing::info!(target: TARGET, event = "token_revoked", client_id);
}

/// A user signed in.
pub fn login_succeeded(subject: &str, client_id: &str) {
    tracing::info!(target: TARGET, event = "login_succeeded", subject, client_id);
}

/// A sign-in failed (unknown user or wrong password; the log does not say which).
pub fn login_failed(username: &str, client_id: &str) {
    tracing::warn!(target: TARGET, event = "login_failed", username, client_id);
}

/// A sign-in attempt was refused without checking the password: too many failures for the
/// user name typed (`reason = account`) or from the client's address (`reason = address`).
pub fn login_throttled(
    username: &str,
    client_id: &str,
    address: std::net::IpAddr,
    reason: &str,
    retry_after: u64,
) {
    tracing::warn!(
        target: TARGET,
        event = "login_throttled",
        username,
        client_id,
        address = %address,
        reason,
        retry_after,
    );
}

/// A user signed out.
pub fn logout(subject: &str, client_id: Option<&str>) {
    tracing::info!(target: TARGET, event = "logout", subject, client_id);
}
