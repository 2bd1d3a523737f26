//! Audit events the protocol core raises itself (the server raises the rest): one structured
//! log record per security-relevant outcome, under the [`TARGET`] tracing target. Records
//! never contain tokens, codes, secrets or passwords.

/// The tracing target of audit records.
pub const TARGET: &str = "sigil::audit";

/// The user consented to a client's scopes.
pub fn consent_granted(client_id: &str, subject: &str, remembered: bool) {
    tracing::info!(target: TARGET, event = "consent_granted", client_id, subject, remembered);
}

/// An authorization code was redeemed.
pub fn code_redeemed(client_id: &str, subject: &str) {
    tracing::info!(target: TARGET, event = "code_redeemed", client_id, subject);
}

/// A consumed authorization code was presented again; what it issued was revoked.
pub fn code_replayed(client_id: &str, subject: Option<&str>, revoked: u64) {
    tracing::warn!(target: TARGET, event = "code_replayed", client_id, subject, revoked);
}

/// A rotated-out refresh token was presented after the grace period; its family was revoked.
pub fn refresh_reuse_detected(client_id: &str, subject: Option<&str>, revoked: u64) {
    tracing::warn!(target: TARGET, event = "refresh_reuse_detected", client_id, subject, revoked);
}
