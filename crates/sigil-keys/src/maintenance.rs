//! What `sigil keys generate|rotate` write: new key files, and which old files may go.
//!
//! Pure functions over [`KeyFiles`] (apart from generating keys), so the file and Kubernetes
//! sources share them and tests need neither. Each configured algorithm has its own chain of
//! keys, rotated on its own schedule; session secrets form one more chain. New files get names
//! no other run can pick (the creation time and a random part), and sources refuse to create a
//! file that exists: a key is never overwritten.

use crate::key_files::{KeyFileChange, KeyFiles, KeyMetadata, parse_key_files, session_secret_jwk};
use crate::policy::{Timeline, after};
use crate::{Algorithm, KeyError, RotationPolicy, SessionSecret, SigningKey, policy};
use sigil_core::time::Timestamp;
use std::time::{Duration, SystemTime};

/// The creation time to record for a key written at `time`: whole seconds, rounded up. A key
/// time is whole seconds, and rounding down would date a key before it existed, shortening its
/// propagation by up to a second (a pod could sign with it before validators had the full
/// period to fetch it).
pub fn creation_time(time: SystemTime) -> Timestamp {
    let since_epoch = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    after(Timestamp(0), since_epoch)
}

/// [`creation_time`] of now.
pub fn created_now() -> Timestamp {
    creation_time(SystemTime::now())
}

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

/// A new session secret, first accepted at `created`: `session-<created>-<random>.jwk`, its id
/// the file's stem. The random part keeps two secrets created in the same second apart.
pub fn new_session_secret(created: Timestamp) -> Result<(String, KeyFileChange), KeyError> {
    let mut nonce = [0u8; 4];
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| KeyError::Generation)?;
    let suffix: String = nonce.iter().map(|byte| format!("{byte:02x}")).collect();
    let id = format!("session-{}-{suffix}", created.as_secs());
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
    chain_due(files, Some(alg), policy, now)
}

/// [`rotation_due`] for the session secrets.
pub fn secret_rotation_due(files: &KeyFiles, policy: &RotationPolicy, now: Timestamp) -> bool {
    chain_due(files, None, policy, now)
}

/// Whether the chain of `group` (an algorithm's keys, or the session secrets for `None`) needs
/// a successor now. A set that does not parse is never due: nothing is written over it.
fn chain_due(
    files: &KeyFiles,
    group: Option<Algorithm>,
    policy: &RotationPolicy,
    now: Timestamp,
) -> bool {
    let Ok(set) = parse_key_files(files, "") else {
        return false;
    };
    let times: Vec<(Timestamp, Timestamp)> = match group {
        Some(alg) => set
            .signing
            .iter()
            .filter(|key| key.alg() == alg)
            .map(|key| (key.created(), key.not_before()))
            .collect(),
        None => set
            .secrets
            .iter()
            .map(|secret| (secret.created(), secret.not_before()))
            .collect(),
    };
    let newest = times
        .into_iter()
        .map(|(created, not_before)| policy.signs_from(created, not_before))
        .max();
    let lead = policy.rotation.saturating_sub(policy.propagation);
    newest.is_none_or(|signs_from| now >= after(signs_from, lead))
}

/// What one `sigil keys generate` or `sigil keys rotate` run does to a source.
#[derive(Debug, Default, Clone)]
pub struct Plan {
    /// The files to create and to remove.
    pub change: KeyFileChange,
    /// The keys it adds: algorithm, `kid`, and when each may sign.
    pub keys: Vec<(Algorithm, String, Timestamp)>,
    /// The session secret it adds, if any: its id and when it may seal.
    pub secret: Option<(String, Timestamp)>,
}

impl Plan {
    /// True if the run changes nothing.
    pub fn is_empty(&self) -> bool {
        self.change.write.is_empty() && self.change.remove.is_empty()
    }

    fn add_key(
        &mut self,
        alg: Algorithm,
        created: Timestamp,
        policy: &RotationPolicy,
    ) -> Result<(), KeyError> {
        let (kid, change) = new_signing_key(alg, created)?;
        self.change.write.extend(change.write);
        self.keys
            .push((alg, kid, policy.signs_from(created, Timestamp(0))));
        Ok(())
    }

    fn add_secret(&mut self, created: Timestamp, policy: &RotationPolicy) -> Result<(), KeyError> {
        let (id, change) = new_session_secret(created)?;
        self.change.write.extend(change.write);
        self.secret = Some((id, policy.signs_from(created, Timestamp(0))));
        Ok(())
    }
}

/// `sigil keys generate`: a key for each of `algorithms` the source holds none for, and a
/// session secret if it holds none.
///
/// In an empty source (a new deployment) they are dated one propagation period back, so they
/// sign at once and their age counts from `now`: no validator can have cached an older key. A
/// source that already holds keys serves validators that cached its JWKS without the new one,
/// so there a new key is dated `now` and published for the propagation period; as the only key
/// of its algorithm it signs meanwhile anyway (reported by `sigil_signing_key_unpropagated`).
pub fn plan_generation(
    files: &KeyFiles,
    location: &str,
    algorithms: &[Algorithm],
    policy: &RotationPolicy,
    now: Timestamp,
) -> Result<Plan, crate::KeySourceError> {
    let set = parse_key_files(files, location)?;
    let created = if set.signing.is_empty() {
        Timestamp(now.as_secs().saturating_sub(seconds_up(policy.propagation)))
    } else {
        now
    };
    let generation = |source| crate::KeySourceError::Generation {
        location: location.to_owned(),
        source,
    };
    let mut plan = Plan::default();
    for &alg in algorithms {
        if !set.signing.iter().any(|key| key.alg() == alg) {
            plan.add_key(alg, created, policy).map_err(generation)?;
        }
    }
    if set.secrets.is_empty() {
        plan.add_secret(created, policy).map_err(generation)?;
    }
    Ok(plan)
}

/// `sigil keys rotate`: a new key for each of `algorithms` and a new session secret, created
/// at `now`; with `only_due`, only for the chains whose [rotation is due](rotation_due). Either
/// way, every key and secret past its retention is removed, so a scheduled run prunes even on
/// the days it adds nothing.
pub fn plan_rotation(
    files: &KeyFiles,
    algorithms: &[Algorithm],
    policy: &RotationPolicy,
    now: Timestamp,
    only_due: bool,
) -> Result<Plan, KeyError> {
    let mut plan = Plan::default();
    for &alg in algorithms {
        if !only_due || rotation_due(files, alg, policy, now) {
            plan.add_key(alg, now, policy)?;
        }
    }
    if !only_due || secret_rotation_due(files, policy, now) {
        plan.add_secret(now, policy)?;
    }
    plan.change.remove = expired_files(files, policy, now);
    Ok(plan)
}

/// Whole seconds in `period`, rounded up.
fn seconds_up(period: Duration) -> u64 {
    after(Timestamp(0), period).as_secs()
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
    fn keys_and_secrets_created_in_the_same_second_never_share_a_file() {
        let (first_id, first) = new_session_secret(Timestamp(100)).unwrap();
        let (second_id, second) = new_session_secret(Timestamp(100)).unwrap();
        assert_ne!(first_id, second_id);
        let first_files: Vec<_> = first.write.keys().collect();
        let second_files: Vec<_> = second.write.keys().collect();
        assert_ne!(first_files, second_files);
        let (_, first) = new_signing_key(Algorithm::ES256, Timestamp(100)).unwrap();
        let (_, second) = new_signing_key(Algorithm::ES256, Timestamp(100)).unwrap();
        assert!(
            first
                .write
                .keys()
                .all(|name| !second.write.contains_key(name))
        );
    }

    #[test]
    fn creation_times_round_up_to_the_next_second() {
        let at = |millis: u64| SystemTime::UNIX_EPOCH + Duration::from_millis(millis);
        assert_eq!(creation_time(at(100_885)), Timestamp(101));
        assert_eq!(creation_time(at(100_001)), Timestamp(101));
        assert_eq!(creation_time(at(100_000)), Timestamp(100));
    }

    #[test]
    fn each_algorithm_and_the_secrets_rotate_on_their_own_schedule() {
        let algs = [Algorithm::RS256, Algorithm::ES256];
        let generated =
            plan_generation(&KeyFiles::new(), "", &algs, &policy(), Timestamp(100 * DAY)).unwrap();
        assert_eq!(generated.keys.len(), 2);
        assert!(generated.secret.is_some());
        assert!(
            generated
                .keys
                .iter()
                .all(|(_, _, signs_from)| *signs_from == Timestamp(100 * DAY)),
            "a new deployment's keys sign at once: {:?}",
            generated.keys
        );
        let files = files_with(&[generated.change]);

        // Nothing is due 10 days in; without --if-due every chain gets a successor.
        let at = Timestamp(110 * DAY);
        assert!(
            plan_rotation(&files, &algs, &policy(), at, true)
                .unwrap()
                .is_empty()
        );
        let all = plan_rotation(&files, &algs, &policy(), at, false).unwrap();
        let rotated: Vec<Algorithm> = all.keys.iter().map(|(alg, _, _)| *alg).collect();
        assert_eq!(rotated, algs);
        assert!(all.secret.is_some());

        // Only the ES256 chain was rotated since: at day 130 only RS256 and the secret are due.
        let (_, es256) = new_signing_key(Algorithm::ES256, Timestamp(120 * DAY)).unwrap();
        let files = files_with(&[
            KeyFileChange {
                write: files,
                remove: vec![],
            },
            es256,
        ]);
        let due = plan_rotation(&files, &algs, &policy(), Timestamp(130 * DAY), true).unwrap();
        let rotated: Vec<Algorithm> = due.keys.iter().map(|(alg, _, _)| *alg).collect();
        assert_eq!(rotated, [Algorithm::RS256]);
        assert!(due.secret.is_some());

        // A key added to a source that has keys already is dated now: it is published for the
        // propagation period (as the only one of its algorithm it signs meanwhile anyway).
        let added = plan_generation(
            &files,
            "",
            &[Algorithm::EdDSA],
            &policy(),
            Timestamp(130 * DAY),
        )
        .unwrap();
        assert_eq!(added.keys.len(), 1);
        assert_eq!(added.keys[0].2, Timestamp(132 * DAY));
        assert!(added.secret.is_none());
    }

    #[test]
    fn a_run_with_no_rotation_due_still_removes_what_is_past_retention() {
        let (_, old) = new_signing_key(Algorithm::ES256, Timestamp(0)).unwrap();
        let (_, old_secret) = new_session_secret(Timestamp(0)).unwrap();
        let (_, new) = new_signing_key(Algorithm::ES256, Timestamp(10 * DAY)).unwrap();
        let (_, new_secret) = new_session_secret(Timestamp(10 * DAY)).unwrap();
        let mut old_names: Vec<String> = old
            .write
            .keys()
            .chain(old_secret.write.keys())
            .cloned()
            .collect();
        old_names.sort();
        let files = files_with(&[old, old_secret, new, new_secret]);
        // Day 20: the new ones took over on day 12, the old ones' retention ended on day 19,
        // and the next rotation is due on day 40.
        let plan = plan_rotation(
            &files,
            &[Algorithm::ES256],
            &policy(),
            Timestamp(20 * DAY),
            true,
        )
        .unwrap();
        assert!(plan.keys.is_empty() && plan.secret.is_none(), "{plan:?}");
        assert_eq!(plan.change.remove, old_names);
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
