//! [`GrantReader`]: a read-only handle on the state machine's committed grants.
//!
//! It reads whatever `apply` has committed on this node, so on its own it is neither
//! linearizable nor even up to date on a follower; [`crate::replica::Replica`] puts a read
//! barrier in front of it. Every read takes the caller's `now` and never returns a grant whose
//! `expires_at` it has reached, swept or not.

use crate::grant_trees::GrantTrees;
use sigil_core::handle::GrantKey;
use sigil_core::store::Grant;
use sigil_core::time::Timestamp;
use std::io;

/// A read-only handle on the state machine's trees; see [`crate::StateMachine::reader`].
/// Cloning is cheap.
#[derive(Clone)]
pub struct GrantReader {
    trees: GrantTrees,
}

impl GrantReader {
    pub(crate) fn new(trees: GrantTrees) -> GrantReader {
        GrantReader { trees }
    }

    /// The grant under `key` if it is stored and live at `now` (consumed or not).
    pub fn get(&self, key: &GrantKey, now: Timestamp) -> io::Result<Option<Grant>> {
        Ok(self.trees.get(key)?.filter(|g| !now.reached(g.expires_at)))
    }

    /// The grants of `subject` live at `now`, in key order.
    pub fn list_by_subject(&self, subject: &str, now: Timestamp) -> io::Result<Vec<Grant>> {
        self.trees.live_by_subject(subject, now)
    }

    /// The trees beneath (for tests that look beneath the API).
    #[cfg(test)]
    pub(crate) fn trees(&self) -> &GrantTrees {
        &self.trees
    }
}
