//! `identity_scopes`: OpenID Connect scopes beyond the standard ones, and the user claims
//! each releases.

use super::Issues;
use serde::Deserialize;
use sigil_core::model::{IdentityScope, OFFLINE_ACCESS, OPENID};
use sigil_core::scope::is_scope_token;

/// A scope that releases user claims, beyond the standard `profile`, `email`, `address` and
/// `phone`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityScopeConfig {
    /// The scope token, such as `roles`.
    pub name: String,
    /// The user claims it releases.
    pub claims: Vec<String>,
}

/// The configured identity scopes; `api_scopes` are the API scope names, which must differ.
pub(super) fn identity_scopes(
    configs: &[IdentityScopeConfig],
    api_scopes: &[&str],
    issues: &mut Issues,
) -> Vec<IdentityScope> {
    let mut scopes: Vec<IdentityScope> = Vec::new();
    for (index, config) in configs.iter().enumerate() {
        let path = format!("identity_scopes[{index}]");
        let name = &config.name;
        let name_problem = if !is_scope_token(name) {
            Some(format!(
                "`{name}` is not a valid scope token (RFC 6749 §3.3)"
            ))
        } else if [OPENID, OFFLINE_ACCESS].contains(&name.as_str()) {
            Some(format!(
                "`{name}` has a fixed meaning in OpenID Connect and cannot be redefined"
            ))
        } else if api_scopes.contains(&name.as_str()) {
            Some(format!(
                "`{name}` is also an api_scopes name; a scope is one or the other"
            ))
        } else if scopes.iter().any(|scope| &scope.name == name) {
            Some(format!("scope `{name}` is defined twice"))
        } else {
            None
        };
        let name_ok = name_problem.is_none();
        if let Some(message) = name_problem {
            issues.push(format!("{path}.name"), message);
        }
        if config.claims.is_empty() {
            issues.push(
                format!("{path}.claims"),
                "an identity scope needs at least one claim",
            );
        }
        for (claim_index, claim) in config.claims.iter().enumerate() {
            if claim.is_empty() || claim.chars().any(char::is_control) {
                issues.push(
                    format!("{path}.claims[{claim_index}]"),
                    "must be non-empty printable text",
                );
            }
        }
        // Kept when only its claims are wrong (validation fails anyway), so that clients
        // naming it are not reported too.
        if name_ok {
            scopes.push(IdentityScope {
                name: name.clone(),
                claims: config.claims.clone(),
            });
        }
    }
    scopes
}
