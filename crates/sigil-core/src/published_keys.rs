//! What the HTTP layer serves from the key ring: the public keys (JWKS) and whether there
//! are any yet (`/readyz`).
//!
//! Implemented by `sigil-keys`' shared key ring, which a refresher replaces while requests
//! read it; the HTTP layer holds a `dyn` [`PublishedKeys`] and needs no adapter.

use bytes::Bytes;

/// The key ring as the HTTP layer sees it.
pub trait PublishedKeys: Send + Sync + 'static {
    /// The JWKS as serialized JSON, or `None` while there is no key to publish (none loaded
    /// yet): an empty key set is never served, since validators would cache it.
    fn jwks_json(&self) -> Option<Bytes>;

    /// `Ok` once keys were loaded at least once; a later source outage does not undo it (the
    /// pod keeps signing with the last good keys, and the metrics show the outage).
    fn loaded(&self) -> Result<(), KeysNotLoaded>;
}

/// No signing keys were ever loaded, with the last load's error if one was recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no signing keys loaded yet{}", last_error.as_deref().map(|error| format!(": {error}")).unwrap_or_default())]
pub struct KeysNotLoaded {
    /// Why the last load failed (its error chain as text), if one has been tried.
    pub last_error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_names_the_last_error_when_there_is_one() {
        assert_eq!(
            KeysNotLoaded { last_error: None }.to_string(),
            "no signing keys loaded yet"
        );
        let failed = KeysNotLoaded {
            last_error: Some("loading keys from /k: not found".to_owned()),
        };
        assert_eq!(
            failed.to_string(),
            "no signing keys loaded yet: loading keys from /k: not found"
        );
    }
}
