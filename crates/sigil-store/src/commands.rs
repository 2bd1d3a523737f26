//! What each command does to the grant trees.
//!
//! Each function reads the state through a [`WriteSet`] (the committed trees plus the writes
//! of the batch so far), decides, and records its writes there; nothing here reads the clock or
//! any other input than the trees and the request, so every replica applying the same log
//! computes the same trees and the same responses.
//!
//! A grant is live while `now < expires_at`; once `now` reaches `expires_at` it is treated as
//! absent by every command, whether or not `Expire` has swept it yet.
//!
//! A proposal with a request id that is remembered returns the remembered response and
//! changes nothing; otherwise its response is remembered (for [`DEDUPE_WINDOW_SECS`]).

use crate::codec::{decode, encode, family_prefix, name_prefix, parse_expiry_index_key};
use crate::grant_trees::{RequestRecord, RotationRecord, TreeId, WriteSet, request_time_of};
use crate::types::{Command, DEDUPE_WINDOW_SECS, Proposal, Request, Response};
use sigil_core::handle::GrantKey;
use sigil_core::store::{
    ConsumeOutcome, Grant, PutOutcome, RevokeTarget, RotateOutcome, Rotation, Throttle,
    ThrottleOutcome,
};
use sigil_core::time::Timestamp;
use std::io;

/// Applies every proposal of `request` in order, recording the writes in `writes`; returns a
/// [`Response::Batch`] with one response per proposal.
pub(crate) fn plan_batch(request: &Request, writes: &mut WriteSet<'_>) -> io::Result<Response> {
    let mut responses = Vec::with_capacity(request.proposals.len());
    for proposal in &request.proposals {
        responses.push(plan_proposal(request.now, proposal, writes)?);
    }
    Ok(Response::Batch(responses))
}

/// Applies one proposal, or returns the remembered response of its request id.
fn plan_proposal(
    now: Timestamp,
    proposal: &Proposal,
    writes: &mut WriteSet<'_>,
) -> io::Result<Response> {
    if let Some(id) = &proposal.id {
        if let Some(record) = writes.request(id)? {
            return decode(&record.response);
        }
    }
    let response = plan(now, &proposal.command, writes)?;
    if let Some(id) = &proposal.id {
        let record = RequestRecord {
            applied_at: now,
            response: encode(&response)?,
        };
        writes.remember_request(id, &record)?;
    }
    Ok(response)
}

/// Decides what `command` does at `now` and records its writes.
pub(crate) fn plan(
    now: Timestamp,
    command: &Command,
    writes: &mut WriteSet<'_>,
) -> io::Result<Response> {
    match command {
        Command::Put { grant } => put(now, grant, writes).map(Response::Put),
        Command::Consume { key } => consume(now, key, writes).map(Response::Consume),
        Command::Revoke { target } => revoke(target, writes).map(Response::Revoked),
        Command::Expire { limit } => expire(now, *limit, writes).map(Response::Expired),
        Command::Rotate(rotation) => rotate(now, rotation, writes).map(Response::Rotate),
        Command::Throttle(command) => throttle(now, command, writes).map(Response::Throttle),
    }
}

fn is_live(grant: &Grant, now: Timestamp) -> bool {
    !now.reached(grant.expires_at)
}

/// The grant under `key` if it is live at `now`.
fn live(writes: &WriteSet<'_>, key: &GrantKey, now: Timestamp) -> io::Result<Option<Grant>> {
    Ok(writes.grant(key)?.filter(|g| is_live(g, now)))
}

fn put(now: Timestamp, grant: &Grant, writes: &mut WriteSet<'_>) -> io::Result<PutOutcome> {
    match writes.grant(&grant.key)? {
        Some(existing) if is_live(&existing, now) => Ok(PutOutcome::AlreadyExists),
        existing => {
            // An expired grant under the key is replaced, with its index entries.
            if let Some(expired) = existing {
                writes.remove_grant(&expired);
            }
            writes.insert_grant(grant)?;
            Ok(PutOutcome::Stored)
        }
    }
}

fn consume(
    now: Timestamp,
    key: &GrantKey,
    writes: &mut WriteSet<'_>,
) -> io::Result<ConsumeOutcome> {
    match live(writes, key, now)? {
        Some(grant) => {
            if grant.consumed_at.is_some() {
                return Ok(ConsumeOutcome::AlreadyConsumed(grant));
            }
            let consumed = Grant {
                consumed_at: Some(now),
                ..grant
            };
            writes.update_grant(&consumed)?;
            Ok(ConsumeOutcome::Consumed(consumed))
        }
        None => Ok(ConsumeOutcome::NotFound),
    }
}

/// Rotates a refresh token: see [`RotateOutcome`] for the cases.
fn rotate(
    now: Timestamp,
    rotation: &Rotation,
    writes: &mut WriteSet<'_>,
) -> io::Result<RotateOutcome> {
    let Some(previous) = live(writes, &rotation.presented, now)? else {
        return Ok(RotateOutcome::NotFound);
    };
    if previous.consumed_at.is_none() {
        if live(writes, &rotation.successor.key, now)?.is_some() {
            return Ok(RotateOutcome::SuccessorExists);
        }
        let consumed = Grant {
            consumed_at: Some(now),
            ..previous
        };
        writes.update_grant(&consumed)?;
        put(now, &rotation.successor, writes)?;
        writes.set_rotation(
            &rotation.presented,
            &RotationRecord {
                successor: rotation.successor.key,
                rotated_at: now,
            },
        )?;
        return Ok(RotateOutcome::Rotated { previous: consumed });
    }
    if let Some(record) = writes.rotation(&rotation.presented)? {
        let within = now.as_secs().saturating_sub(record.rotated_at.as_secs())
            < rotation.grace_seconds
            && rotation.grace_seconds > 0;
        if within {
            if let Some(successor) = live(writes, &record.successor, now)? {
                return Ok(RotateOutcome::WithinGrace {
                    previous,
                    successor,
                });
            }
        }
    }
    // A replay: the token was used before, outside the grace (or its successor is gone).
    let revoked = match previous.family {
        Some(family) => revoke(&RevokeTarget::Family(family), writes)?,
        None => revoke(&RevokeTarget::Grant(previous.key), writes)?,
    };
    Ok(RotateOutcome::ReuseDetected { previous, revoked })
}

/// Applies a login-failure counter command (the rule is sigil-core's, so that it is the
/// same on every replica); replaces the counter's grant, with its index entries, if it
/// changes.
fn throttle(
    now: Timestamp,
    command: &Throttle,
    writes: &mut WriteSet<'_>,
) -> io::Result<ThrottleOutcome> {
    let current = live(writes, &command.key, now)?;
    let (outcome, replacement) = command.apply(current.as_ref(), now);
    if let Some(replacement) = replacement {
        if let Some(stored) = writes.grant(&command.key)? {
            writes.remove_grant(&stored);
        }
        writes.insert_grant(&replacement)?;
    }
    Ok(outcome)
}

fn revoke(target: &RevokeTarget, writes: &mut WriteSet<'_>) -> io::Result<u64> {
    match target {
        RevokeTarget::Grant(key) => match writes.grant(key)? {
            Some(grant) => {
                writes.remove_grant(&grant);
                Ok(1)
            }
            None => Ok(0),
        },
        RevokeTarget::Family(family) => {
            remove_listed(TreeId::Family, &family_prefix(family), writes)
        }
        RevokeTarget::Subject(subject) => {
            remove_listed(TreeId::Subject, &name_prefix(subject), writes)
        }
        RevokeTarget::Client(client_id) => {
            remove_listed(TreeId::Client, &name_prefix(client_id), writes)
        }
        // A target added to the core later must be handled here before it is proposed; until
        // then it removes nothing, the same way on every replica.
        other => {
            tracing::error!(target = ?other, "revoke target not supported by this store version");
            Ok(0)
        }
    }
}

/// Removes every grant `index` lists under `prefix`; returns how many.
fn remove_listed(index: TreeId, prefix: &[u8], writes: &mut WriteSet<'_>) -> io::Result<u64> {
    let mut removed = 0;
    for entry in writes.keys_with_prefix(index, prefix, usize::MAX)? {
        let key = crate::codec::index_key_target(&entry).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "index entry shorter than a grant key",
            )
        })?;
        match writes.grant(&key)? {
            Some(grant) => {
                writes.remove_grant(&grant);
                removed += 1;
            }
            None => writes.remove_index_entry(index, &entry),
        }
    }
    Ok(removed)
}

/// Removes grants whose `expires_at` is at or before `now`, earliest first, looking at no more
/// than `limit` index entries; then forgets up to `limit` request ids applied at least
/// [`DEDUPE_WINDOW_SECS`] before `now`. Returns how many grants and ids were removed.
fn expire(now: Timestamp, limit: u64, writes: &mut WriteSet<'_>) -> io::Result<u64> {
    let mut removed = 0;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    for entry in writes.keys_with_prefix(TreeId::Expiry, &[], limit)? {
        let (expires_at, key) = parse_expiry_index_key(&entry).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "malformed expiry index entry")
        })?;
        if !now.reached(expires_at) {
            break;
        }
        match writes.grant(&key)? {
            Some(grant) if grant.expires_at == expires_at => {
                writes.remove_grant(&grant);
                removed += 1;
            }
            // The entry does not describe the stored grant: drop the entry alone.
            _ => writes.remove_index_entry(TreeId::Expiry, &entry),
        }
    }
    let forget_before = now.as_secs().saturating_sub(DEDUPE_WINDOW_SECS);
    for entry in writes.keys_with_prefix(TreeId::RequestsByTime, &[], limit)? {
        match request_time_of(&entry) {
            Some(applied_at) if applied_at.as_secs() > forget_before => break,
            _ => {
                writes.forget_request(&entry);
                removed += 1;
            }
        }
    }
    Ok(removed)
}
