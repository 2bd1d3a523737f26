//! How values and keys are laid out on disk.
//!
//! Values are postcard, a compact format that is not self-describing: a reader must know the
//! exact type, and a serde attribute that skips fields (`skip_serializing_if`) would corrupt it.
//! None of the types stored here use such attributes (openraft 0.9's `Entry`, `Vote`, `LogId`
//! and `StoredMembership` included; the round-trip tests pin that down).
//!
//! Keys are big-endian so that sled's byte order is numeric order. Index keys end with the
//! 32-byte [`GrantKey`] they point at; variable-length parts (subject, client id) are
//! length-prefixed so that one value's prefix can never match another value.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sigil_core::handle::{FamilyId, GrantKey};
use sigil_core::time::Timestamp;
use std::io;

/// Encodes a stored value.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> io::Result<Vec<u8>> {
    postcard::to_allocvec(value).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Decodes a stored value.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> io::Result<T> {
    postcard::from_bytes(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// The key of a log entry: its index, big-endian.
pub(crate) fn log_key(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

/// The key under which a grant is stored.
pub(crate) fn grant_key(key: &GrantKey) -> [u8; 32] {
    *key.as_bytes()
}

/// `family || key`.
pub(crate) fn family_index_key(family: &FamilyId, key: &GrantKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + 32);
    out.extend_from_slice(family.as_bytes());
    out.extend_from_slice(key.as_bytes());
    out
}

/// The prefix shared by every `by_family` entry of `family`.
pub(crate) fn family_prefix(family: &FamilyId) -> [u8; 16] {
    *family.as_bytes()
}

/// `len(name) (u64, big-endian) || name`: the prefix shared by every entry of one subject or
/// client in its index.
pub(crate) fn name_prefix(name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + name.len() + 32);
    out.extend_from_slice(&(name.len() as u64).to_be_bytes());
    out.extend_from_slice(name.as_bytes());
    out
}

/// `len(name) || name || key`, for the `by_subject` and `by_client` indexes.
pub(crate) fn name_index_key(name: &str, key: &GrantKey) -> Vec<u8> {
    let mut out = name_prefix(name);
    out.extend_from_slice(key.as_bytes());
    out
}

/// `expires_at (u64, big-endian) || key`, so the index iterates in expiry order.
pub(crate) fn expiry_index_key(expires_at: Timestamp, key: &GrantKey) -> [u8; 40] {
    let mut out = [0u8; 40];
    let (time, rest) = out.split_at_mut(8);
    time.copy_from_slice(&expires_at.as_secs().to_be_bytes());
    rest.copy_from_slice(key.as_bytes());
    out
}

/// Splits an expiry index key back into its parts.
pub(crate) fn parse_expiry_index_key(bytes: &[u8]) -> Option<(Timestamp, GrantKey)> {
    let (time, key) = bytes.split_first_chunk::<8>()?;
    let key: [u8; 32] = key.try_into().ok()?;
    Some((
        Timestamp(u64::from_be_bytes(*time)),
        GrantKey::from_bytes(key),
    ))
}

/// The grant key an index entry ends with.
pub(crate) fn index_key_target(bytes: &[u8]) -> Option<GrantKey> {
    let (_, key) = bytes.split_last_chunk::<32>()?;
    Some(GrantKey::from_bytes(*key))
}

/// Reads a log index back from its key.
pub(crate) fn parse_log_key(bytes: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = bytes.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_prefixes_do_not_match_longer_names() {
        let key = GrantKey::of_handle("h");
        let entry = name_index_key("alice2", &key);
        assert!(!entry.starts_with(&name_prefix("alice")));
        assert!(entry.starts_with(&name_prefix("alice2")));
        assert_eq!(index_key_target(&entry), Some(key));
    }

    #[test]
    fn expiry_keys_sort_by_time_and_round_trip() {
        let key = GrantKey::of_handle("h");
        let early = expiry_index_key(Timestamp(255), &key);
        let late = expiry_index_key(Timestamp(256), &key);
        assert!(early < late);
        assert_eq!(parse_expiry_index_key(&late), Some((Timestamp(256), key)));
        assert_eq!(parse_log_key(&log_key(7)), Some(7));
    }
}
