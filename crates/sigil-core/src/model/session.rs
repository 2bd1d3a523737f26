//! A user's sign-in session. The server keeps it in a sealed cookie (sealed with a secret from
//! the shared key source, so every pod can open it); the grant store holds a record of it (the
//! sessions repository in [`crate::repository`]) so that logout and revoke-by-subject end it
//! on every pod.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A signed-in user, as the session cookie carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The session id (`sid` in id_tokens); random.
    pub sid: String,
    /// The user.
    pub subject: String,
    /// When the user authenticated (`auth_time`).
    pub auth_time: Timestamp,
    /// How (`amr`), such as `pwd`.
    pub amr: Vec<String>,
    /// When the session ends.
    pub expires_at: Timestamp,
}
