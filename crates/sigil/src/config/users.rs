//! `users`: the built-in accounts, each with an argon2id password hash, turned into the
//! core's [`UserAccount`]s.

use super::Issues;
use serde::Deserialize;
use sigil_core::model::User;
use sigil_core::secret::SecretHash;
use sigil_core::users::UserAccount;

/// A user who signs in with a password.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The stable subject identifier (`sub`); never reuse one for another person.
    pub subject: String,
    /// What the user types to sign in.
    pub username: String,
    /// An argon2id hash of the password, as `sigil secret hash` prints it.
    pub password_hash: String,
    /// Claims such as `name` or `email`, released to clients by identity scopes.
    #[serde(default)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// Claims Sigil sets itself in id_tokens and at userinfo; a user's own value would clash.
const PROTOCOL_CLAIMS: &[&str] = &[
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "sid",
    "at_hash",
    "c_hash",
];

/// The accounts of `configs`, recording every problem; accounts with problems are left out.
pub(super) fn accounts(configs: &[UserConfig], issues: &mut Issues) -> Vec<UserAccount> {
    let mut accounts: Vec<UserAccount> = Vec::new();
    for (index, config) in configs.iter().enumerate() {
        let path = format!("users[{index}]");
        let before = issues.0.len();
        check_identifier(&config.subject, &format!("{path}.subject"), issues);
        check_identifier(&config.username, &format!("{path}.username"), issues);
        if accounts
            .iter()
            .any(|account| account.user.subject == config.subject)
        {
            issues.push(
                format!("{path}.subject"),
                format!("subject `{}` belongs to another user", config.subject),
            );
        }
        if accounts
            .iter()
            .any(|account| account.user.username == config.username)
        {
            issues.push(
                format!("{path}.username"),
                format!("username `{}` belongs to another user", config.username),
            );
        }
        let password = password_hash(
            &config.password_hash,
            &format!("{path}.password_hash"),
            issues,
        );
        for claim in config.claims.keys() {
            if PROTOCOL_CLAIMS.contains(&claim.as_str()) {
                issues.push(
                    format!("{path}.claims.{claim}"),
                    if claim == "sub" {
                        "the subject is `subject`; remove this claim".to_owned()
                    } else {
                        format!("`{claim}` is set by Sigil in each token; remove this claim")
                    },
                );
            }
        }
        if let Some(password) = password.filter(|_| issues.0.len() == before) {
            accounts.push(UserAccount {
                user: User {
                    subject: config.subject.clone(),
                    username: config.username.clone(),
                    claims: config.claims.clone(),
                },
                password,
            });
        }
    }
    accounts
}

fn check_identifier(value: &str, path: &str, issues: &mut Issues) {
    if value.is_empty() || value.chars().any(char::is_control) {
        issues.push(path, "must be non-empty printable text");
    }
}

/// Passwords are chosen by people, so only a slow hash will do.
fn password_hash(stored: &str, path: &str, issues: &mut Issues) -> Option<SecretHash> {
    const HINT: &str =
        "run `sigil secret hash`, type the password, and paste the `$argon2id$…` line it prints";
    match SecretHash::parse(stored) {
        Ok(hash @ SecretHash::Argon2id(_)) => Some(hash),
        Ok(SecretHash::Sha256(_)) => {
            issues.push(
                path,
                format!(
                    "passwords must be argon2id hashes, not sha256 (that form is only for \
                     generated client secrets): {HINT}"
                ),
            );
            None
        }
        Err(error) => {
            issues.push(path, format!("{error}: {HINT}"));
            None
        }
    }
}
