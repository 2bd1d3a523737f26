//! Batches: the proposals of one entry apply in order, each seeing the ones before.

use super::grant;
use super::machine::Machine;
use crate::types::{Command, Proposal, Response};
use sigil_core::store::{ConsumeOutcome, PutOutcome, RevokeTarget};

fn p(command: Command) -> Proposal {
    Proposal { id: None, command }
}

#[tokio::test]
async fn two_consumes_of_one_key_in_a_batch_consume_once() {
    let mut m = Machine::new();
    let g = grant("code", "app", 100);
    let responses = m
        .run_batch(
            10,
            vec![
                p(Command::Put { grant: g.clone() }),
                p(Command::Consume { key: g.key }),
                p(Command::Consume { key: g.key }),
            ],
        )
        .await;
    assert!(matches!(
        responses.as_slice(),
        [
            Response::Put(PutOutcome::Stored),
            Response::Consume(ConsumeOutcome::Consumed(_)),
            Response::Consume(ConsumeOutcome::AlreadyConsumed(_)),
        ]
    ));
}

#[tokio::test]
async fn later_proposals_see_removals_and_index_changes() {
    let mut m = Machine::new();
    m.put(1, grant("a", "app", 100)).await;
    let responses = m
        .run_batch(
            10,
            vec![
                p(Command::Put {
                    grant: grant("b", "app", 100),
                }),
                p(Command::Revoke {
                    target: RevokeTarget::Client("app".into()),
                }),
                p(Command::Put {
                    grant: grant("c", "app", 100),
                }),
                p(Command::Consume {
                    key: grant("a", "app", 100).key,
                }),
                p(Command::Put {
                    grant: grant("early", "other", 5),
                }),
                p(Command::Expire { limit: 10 }),
            ],
        )
        .await;
    assert_eq!(responses[1], Response::Revoked(2), "sees the pending put");
    assert_eq!(responses[3], Response::Consume(ConsumeOutcome::NotFound));
    assert_eq!(
        responses[5],
        Response::Expired(1),
        "sees the pending expiry entry"
    );
    assert_eq!(m.stored_payloads(), vec![b"c".to_vec()]);
}
