//! Failed sign-ins must not leave memory behind. Each argon2id check needs 19 MiB; memory
//! must stay bounded by the checking threads times one buffer, however many checks run.
//!
//! In its own test binary (its own process under nextest, and no other test in this one), so
//! the resident set it reads is this test's alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

use sigil_core::model::{User, UserStore};
use sigil_core::secret::SecretHash;
use sigil_core::users::{ConfiguredUsers, UserAccount};
use sigil_server::secret_checks::{CheckLimits, SecretCheckPool};
use std::sync::Arc;

const MIB: u64 = 1024 * 1024;

/// An argon2id hash with the default memory cost (19 MiB) and one pass, to keep 1,000 checks
/// quick; its value never matches (every sign-in here fails).
const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// This process's resident set (`VmRSS`), in bytes.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_failed_sign_ins_leave_memory_bounded() {
    let accounts = (0..8)
        .map(|i| UserAccount {
            user: User {
                subject: format!("id-{i}"),
                username: format!("user-{i}"),
                claims: serde_json::Map::new(),
            },
            password: SecretHash::parse(PASSWORD_HASH).unwrap(),
        })
        .collect();
    let limits = CheckLimits::for_this_machine();
    let pool = SecretCheckPool::start(limits);
    let users = Arc::new(ConfiguredUsers::new(accounts, Arc::new(pool)));
    let before = resident_bytes();

    let mut checks = 0;
    while checks < 1000 {
        let batch: Vec<_> = (0..8)
            .map(|i| {
                let users = Arc::clone(&users);
                tokio::spawn(async move { users.authenticate(&format!("user-{i}"), "wrong").await })
            })
            .collect();
        for check in batch {
            assert!(matches!(check.await, Ok(Ok(None))));
            checks += 1;
        }
    }

    let grown = resident_bytes().saturating_sub(before);
    let bound = limits.threads as u64 * 19 * MIB + 16 * MIB;
    eprintln!(
        "{checks} failed checks: resident set grew by {} MiB (bound {} MiB)",
        grown / MIB,
        bound / MIB
    );
    assert!(
        grown <= bound,
        "the resident set grew by {} MiB after {checks} failed checks",
        grown / MIB
    );
}
