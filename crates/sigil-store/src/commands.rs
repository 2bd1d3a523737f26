//! What each command does to the grant trees.
//!
//! Each function reads the committed state, decides, and records its writes in a [`WriteSet`];
//! nothing here reads the clock or any other input than the trees and the request, so every
//! replica applying the same log computes the same trees and the same responses.
//!
//! A grant is live while `now < expires_at`; once `now` reaches `expires_at` it is treated as
//! absent by every command, whether or not `Expire` has swept it yet.

use crate::codec::{family_prefix, name_prefix, parse_expiry_index_key};
use crate::grant_trees::{GrantTrees, Index, WriteSet};
use crate::types::{Command, Request, Response};
use sigil_core::handle::GrantKey;
use sigil_core::store::{ConsumeOutcome, Grant, PutOutcome, RevokeTarget};
use sigil_core::time::Timestamp;
use std::io;

/// Decides what `request` does and records its writes in `writes`.
pub(crate) fn plan(
    trees: &GrantTrees,
    request: &Request,
    writes: &mut WriteSet,
) -> io::Result<Response> {
    let now = request.now;
    match &request.command {
        Command::Put { grant } => put(trees, now, grant, writes).map(Response::Put),
        Command::Consume { key } => consume(trees, now, key, writes).map(Response::Consume),
        Command::Revoke { target } => revoke(trees, target, writes).map(Response::Revoked),
        Command::Expire { limit } => expire(trees, now, *limit, writes).map(Response::Expired),
    }
}

fn is_live(grant: &Grant, now: Timestamp) -> bool {
    !now.reached(grant.expires_at)
}

fn put(
    trees: &GrantTrees,
    now: Timestamp,
    grant: &Grant,
    writes: &mut WriteSet,
) -> io::Result<PutOutcome> {
    match trees.get(&grant.key)? {
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
    trees: &GrantTrees,
    now: Timestamp,
    key: &GrantKey,
    writes: &mut WriteSet,
) -> io::Result<ConsumeOutcome> {
    match trees.get(key)? {
        Some(grant) if is_live(&grant, now) => {
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
        _ => Ok(ConsumeOutcome::NotFound),
    }
}

fn revoke(trees: &GrantTrees, target: &RevokeTarget, writes: &mut WriteSet) -> io::Result<u64> {
    match target {
        RevokeTarget::Grant(key) => match trees.get(key)? {
            Some(grant) => {
                writes.remove_grant(&grant);
                Ok(1)
            }
            None => Ok(0),
        },
        RevokeTarget::Family(family) => {
            remove_listed(trees, Index::Family, &family_prefix(family), writes)
        }
        RevokeTarget::Subject(subject) => {
            remove_listed(trees, Index::Subject, &name_prefix(subject), writes)
        }
        RevokeTarget::Client(client_id) => {
            remove_listed(trees, Index::Client, &name_prefix(client_id), writes)
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
fn remove_listed(
    trees: &GrantTrees,
    index: Index,
    prefix: &[u8],
    writes: &mut WriteSet,
) -> io::Result<u64> {
    let mut removed = 0;
    for (entry, key) in trees.keys_with_prefix(index.tree(trees), prefix)? {
        match trees.get(&key)? {
            Some(grant) => {
                writes.remove_grant(&grant);
                removed += 1;
            }
            None => writes.remove_index_entry(index, entry),
        }
    }
    Ok(removed)
}

/// Removes grants whose `expires_at` is at or before `now`, earliest first, looking at no more
/// than `limit` index entries.
fn expire(
    trees: &GrantTrees,
    now: Timestamp,
    limit: u64,
    writes: &mut WriteSet,
) -> io::Result<u64> {
    let mut removed = 0;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    for item in trees.by_expiry.iter().take(limit) {
        let (entry, _) = item?;
        let (expires_at, key) = parse_expiry_index_key(&entry).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidData, "malformed expiry index entry")
        })?;
        if !now.reached(expires_at) {
            break;
        }
        match trees.get(&key)? {
            Some(grant) if grant.expires_at == expires_at => {
                writes.remove_grant(&grant);
                removed += 1;
            }
            // The entry does not describe the stored grant: drop the entry alone.
            _ => writes.remove_index_entry(Index::Expiry, entry),
        }
    }
    Ok(removed)
}
