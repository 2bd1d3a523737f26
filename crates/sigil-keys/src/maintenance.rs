//! What `sigil keys generate|rotate` write: new key files, and which old files may go.
//!
//! Pure functions over [`KeyFiles`], so the file and Kubernetes sources share them and tests
//! need neither.

use crate::key_files::{KeyFileChange, KeyFiles, KeyMetadata, parse_key_files, session_secret_jwk};
use crate::policy::Timeline;
use crate::{Algorithm, KeyError, RotationPolicy, SessionSecret, SigningKey, policy};
use sigil_core::time::Timestamp;

/// A new signing key for `alg`, first published at `created`: `<alg>-<created>-<kid prefix>.pem`
/// and its sidecar. With `created` = now it is pending for the propagation period; with
/// `created` = 0 it may sign at once (the first key of a new deployment).
pub fn new_signing_key(
    alg: Algorithm,
    created: Timestamp,
) -> Result<(String, KeyFileChange), KeyError> {
    let (key, pem_text) = SigningKey::generate(alg)?;
    let kid = key.kid().to_owned();
    let stem = format!(
        "{}-{}-{}",
        alg.as_str().to_ascii_lowercase(),
        created.as_secs(),
        kid.get(..8).unwrap_or(&kid)
    );
    let metadata = KeyMetadata {
        alg: Some(alg.to_string()),
        created: Some(created.as_secs()),
        ..KeyMetadata::default()
    };
    let mut change = KeyFileChange::default();
    change
        .write
        .insert(format!("{stem}.json"), metadata.to_json());
    change
        .write
        .insert(format!("{stem}.pem"), pem_text.into_bytes());
    Ok((kid, change))
}

/// A new session secret, first accepted at `created`: `session-<created>.jwk`.
pub fn new_session_secret(created: Timestamp) -> Result<(String, KeyFileChange), KeyError> {
    let id = format!("session-{}", created.as_secs());
    let secret = SessionSecret::generate(id.clone())?.with_created(created);
    let mut change = KeyFileChange::default();
    change
        .write
        .insert(format!("{id}.jwk"), session_secret_jwk(&secret));
    Ok((id, change))
}

/// True if the newest key for `alg` in `files` was created long enough ago that a successor
/// should be published now to take over when its `rotation` period ends (or there is none).
pub fn rotation_due(
    files: &KeyFiles,
    alg: Algorithm,
    policy: &RotationPolicy,
    now: Timestamp,
) -> bool {
    let Ok(set) = parse_key_files(files, "") else {
        return false;
    };
    let newest = set
        .signing
        .iter()
        .filter(|key| key.alg() == alg)
        .map(|key| policy.signs_from(key.created(), key.not_before()))
        .max();
    newest.is_none_or(|signs_from| {
        now >= signs_from.plus(policy.rotation.saturating_sub(policy.propagation))
    })
}

/// One key or secret as stored: its files, its times, its id, and its algorithm (`None` for
/// session secrets, which form their own group).
struct Stored {
    files: Vec<String>,
    timeline: Timeline,
    id: String,
    group: Option<Algorithm>,
}

/// The files of keys and secrets that are retired and past their retention at `now`: safe
/// to delete (a key file with its sidecar).
pub fn expired_files(files: &KeyFiles, policy: &RotationPolicy, now: Timestamp) -> Vec<String> {
    let stored = stored_versions(files);
    let mut expired = Vec::new();
    let groups = Algorithm::ALL.into_iter().map(Some).chain([None]);
    for group in groups {
        let members: Vec<&Stored> = stored.iter().filter(|item| item.group == group).collect();
        let timelines: Vec<_> = members
            .iter()
            .map(|item| (item.timeline, item.id.as_str()))
            .collect();
        for (item, state) in members.iter().zip(policy::states(&timelines, policy, now)) {
            if state.past_retention(now) {
                expired.extend(
                    item.files
                        .iter()
                        .filter(|name| files.contains_key(*name))
                        .cloned(),
                );
            }
        }
    }
    expired.sort();
    expired.dedup();
    expired
}

/// Every key and secret in `files`, each parsed from its own files (unparsable ones skipped:
/// they are not this function's to delete).
fn stored_versions(files: &KeyFiles) -> Vec<Stored> {
    let mut stored = Vec::new();
    for name in files.keys() {
        let own_files: Vec<String> = if let Some(stem) = name.strip_suffix(".pem") {
            vec![name.clone(), format!("{stem}.json")]
        } else if name.ends_with(".jwk") {
            vec![name.clone()]
        } else {
            continue;
        };
        let single: KeyFiles = own_files
            .iter()
            .filter_map(|file| Some((file.clone(), files.get(file)?.clone())))
            .collect();
        let Ok(set) = parse_key_files(&single, "") else {
            continue;
        };
        for key in &set.signing {
            stored.push(Stored {
                files: own_files.clone(),
                timeline: Timeline {
                    created: key.created(),
                    not_before: key.not_before(),
                    expires: key.expires(),
                    removed: None,
                },
                id: key.kid().to_owned(),
                group: Some(key.alg()),
            });
        }
        for secret in &set.secrets {
            stored.push(Stored {
                files: own_files.clone(),
                timeline: Timeline {
                    created: secret.created(),
                    not_before: secret.not_before(),
                    expires: None,
                    removed: None,
                },
                id: secret.id().to_owned(),
                group: None,
            });
        }
    }
    stored
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    const DAY: u64 = 24 * 3600;

    fn policy() -> RotationPolicy {
        RotationPolicy {
            propagation: Duration::from_secs(2 * DAY),
            rotation: Duration::from_secs(30 * DAY),
            retention: Duration::from_secs(7 * DAY),
        }
    }

    fn files_with(changes: &[KeyFileChange]) -> KeyFiles {
        changes
            .iter()
            .flat_map(|change| change.write.clone())
            .collect()
    }

    #[test]
    fn a_rotation_is_due_when_the_newest_key_nears_the_end_of_its_period() {
        let (_, first) = new_signing_key(Algorithm::ES256, Timestamp(0)).unwrap();
        let files = files_with(&[first]);
        let at = |days: u64| Timestamp(100 * DAY + days * DAY);
        // Signing from 2d, it hands over at 32d, so its successor is due at 30d.
        assert!(rotation_due(
            &files,
            Algorithm::ES256,
            &policy(),
            Timestamp(30 * DAY)
        ));
        assert!(!rotation_due(
            &files,
            Algorithm::ES256,
            &policy(),
            Timestamp(30 * DAY - 1)
        ));
        assert!(
            rotation_due(&files, Algorithm::RS256, &policy(), at(0)),
            "no RS256 key at all"
        );
        let (_, second) = new_signing_key(Algorithm::ES256, at(0)).unwrap();
        let files = files_with(&[
            new_signing_key(Algorithm::ES256, Timestamp(0)).unwrap().1,
            second,
        ]);
        assert!(
            !rotation_due(&files, Algorithm::ES256, &policy(), at(1)),
            "a successor is pending"
        );
    }

    #[test]
    fn only_keys_and_secrets_past_retention_are_expired_with_their_sidecars() {
        let (_, old) = new_signing_key(Algorithm::ES256, Timestamp(0)).unwrap();
        let (_, old_secret) = new_session_secret(Timestamp(0)).unwrap();
        let (_, new) = new_signing_key(Algorithm::ES256, Timestamp(10 * DAY)).unwrap();
        let (_, new_secret) = new_session_secret(Timestamp(10 * DAY)).unwrap();
        let old_names: Vec<String> = old
            .write
            .keys()
            .chain(old_secret.write.keys())
            .cloned()
            .collect();
        let files = files_with(&[old, old_secret, new, new_secret]);
        // The new ones sign from day 12; the old ones stay published until day 19.
        assert!(expired_files(&files, &policy(), Timestamp(19 * DAY - 1)).is_empty());
        let mut expected = old_names;
        expected.sort();
        assert_eq!(
            expired_files(&files, &policy(), Timestamp(19 * DAY)),
            expected
        );
        assert_eq!(expected.len(), 3, "pem, sidecar and secret: {expected:?}");
    }
}
