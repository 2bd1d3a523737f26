use crate::{KeySourceError, SigningKey};
use async_trait::async_trait;

/// Where signing keys come from. Implementations return every key they hold, each parsed;
/// the [`crate::KeyRing`] decides which one signs.
#[async_trait]
pub trait KeySource: Send + Sync {
    /// Loads (or reloads) every key.
    async fn load(&self) -> Result<Vec<SigningKey>, KeySourceError>;

    /// Names the source in errors and logs (a path, a vault URL).
    fn describe(&self) -> String;
}
