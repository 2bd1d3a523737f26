//! Tests of the store: openraft's storage suite, the state machine's semantics, the embedded
//! store, and log compaction.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod batching;
mod compaction;
mod dedupe;
mod embedded;
mod machine;
mod replica;
mod rotate;
mod state_machine;
mod suite;
mod throttle;

use crate::codec::{self, expiry_index_key, family_index_key, name_index_key};
use crate::grant_trees::GrantTrees;
use sigil_core::handle::{FamilyId, GrantKey};
use sigil_core::store::{Grant, GrantKind};
use sigil_core::time::Timestamp;
use std::collections::BTreeSet;

/// A grant with the given handle, client and expiry, and no subject or family.
pub(crate) fn grant(handle: &str, client_id: &str, expires_at: u64) -> Grant {
    Grant {
        key: GrantKey::of_handle(handle),
        kind: GrantKind::AuthorizationCode,
        client_id: client_id.into(),
        subject: None,
        family: None,
        issued_at: Timestamp(0),
        expires_at: Timestamp(expires_at),
        consumed_at: None,
        payload: handle.as_bytes().to_vec(),
    }
}

/// A family id that is readable in test failures.
pub(crate) fn family(n: u8) -> FamilyId {
    FamilyId::from_bytes([n; 16])
}

/// Every stored grant, by key order.
pub(crate) fn all_grants(trees: &GrantTrees) -> Vec<Grant> {
    trees
        .grants
        .iter()
        .values()
        .map(|v| codec::decode::<Grant>(&v.unwrap()).unwrap())
        .collect()
}

fn keys_of(tree: &sled::Tree) -> BTreeSet<Vec<u8>> {
    tree.iter().keys().map(|k| k.unwrap().to_vec()).collect()
}

/// Asserts that each index lists exactly the entries the stored grants call for.
pub(crate) fn assert_indexes_consistent(trees: &GrantTrees) {
    let grants = all_grants(trees);
    for g in &grants {
        assert!(
            trees.grants.get(g.key.as_bytes()).unwrap().is_some(),
            "grant filed under its own key"
        );
    }
    let family: BTreeSet<Vec<u8>> = grants
        .iter()
        .filter_map(|g| g.family.map(|f| family_index_key(&f, &g.key)))
        .collect();
    let subject: BTreeSet<Vec<u8>> = grants
        .iter()
        .filter_map(|g| g.subject.as_ref().map(|s| name_index_key(s, &g.key)))
        .collect();
    let client: BTreeSet<Vec<u8>> = grants
        .iter()
        .map(|g| name_index_key(&g.client_id, &g.key))
        .collect();
    let expiry: BTreeSet<Vec<u8>> = grants
        .iter()
        .map(|g| expiry_index_key(g.expires_at, &g.key).to_vec())
        .collect();
    assert_eq!(keys_of(&trees.by_family), family, "family index");
    assert_eq!(keys_of(&trees.by_subject), subject, "subject index");
    assert_eq!(keys_of(&trees.by_client), client, "client index");
    assert_eq!(keys_of(&trees.by_expiry), expiry, "expiry index");
    for key in keys_of(&trees.rotations) {
        assert!(
            trees.grants.get(&key).unwrap().is_some(),
            "a rotation record outlives its grant"
        );
    }
    assert_eq!(
        trees.requests.len(),
        trees.requests_by_time.len(),
        "request ids and their time index"
    );
}

/// The full contents of every state machine tree, for comparing two machines.
pub(crate) fn dump(trees: &GrantTrees) -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
    [
        &trees.grants,
        &trees.by_family,
        &trees.by_subject,
        &trees.by_client,
        &trees.by_expiry,
        &trees.rotations,
        &trees.requests,
        &trees.requests_by_time,
        &trees.meta,
    ]
    .iter()
    .map(|tree| {
        tree.iter()
            .map(|kv| {
                let (k, v) = kv.unwrap();
                (k.to_vec(), v.to_vec())
            })
            .collect()
    })
    .collect()
}
