//! Races against a 3-node store cluster: many callers, through different nodes and pods,
//! trying to use one single-use thing at once. Exactly one may win.
//!
//! The store races drive `sigil store` through the cluster client (two clients that start at
//! different nodes); the client-assertion race goes through two `sigil serve` pods over HTTP.

use futures::future::join_all;
use serde_json::Value;
use sigil_core::handle::{FamilyId, GrantKey, new_handle};
use sigil_core::store::{
    ConsumeOutcome, Grant, GrantKind, GrantStore, PutOutcome, RotateOutcome, Rotation,
};
use sigil_core::time::Timestamp;
use sigil_e2e::{POD_ISSUER, config};
use sigil_store_client::{ClientOptions, StoreClient};
use sigil_testkit::SigilDev;
use sigil_testkit::client::{ClientKey, form, post_form};
use sigil_testkit::cluster::{StoreCluster, write_signing_key};
use std::sync::Arc;
use std::time::Duration;

const RACERS: usize = 32;
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Two clients of `cluster`: one lists the nodes in order, the other in reverse, so their
/// first attempts go to different nodes.
fn clients(cluster: &StoreCluster) -> [Arc<StoreClient>; 2] {
    let urls: Vec<String> = cluster.nodes.iter().map(|node| node.url.clone()).collect();
    let reversed: Vec<String> = urls.iter().rev().cloned().collect();
    let options = ClientOptions::default().with_request_timeout(Duration::from_secs(10));
    [
        Arc::new(StoreClient::connect(urls, options.clone()).unwrap()),
        Arc::new(StoreClient::connect(reversed, options).unwrap()),
    ]
}

fn grant(kind: GrantKind, family: Option<FamilyId>) -> Grant {
    let now = Timestamp::now();
    Grant {
        key: GrantKey::of_handle(&new_handle()),
        kind,
        client_id: "race-client".to_owned(),
        subject: Some("alice".to_owned()),
        family,
        issued_at: now,
        expires_at: now.plus(Duration::from_secs(600)),
        consumed_at: None,
        payload: b"claims".to_vec(),
    }
}

/// Runs `RACERS` calls of `call`, alternating between the two clients, all at once.
async fn race<T, F, Fut>(clients: &[Arc<StoreClient>; 2], call: F) -> Vec<T>
where
    F: Fn(Arc<StoreClient>, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let tasks = (0..RACERS).map(|racer| tokio::spawn(call(clients[racer % 2].clone(), racer)));
    join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// Stores a refresh token, then has every racer rotate it to its own successor with
/// `grace_seconds`. Returns each racer's outcome, the successors (by racer) and the key
/// presented.
async fn rotation_race(
    clients: &[Arc<StoreClient>; 2],
    grace_seconds: u64,
) -> (Vec<RotateOutcome>, Arc<Vec<Grant>>, GrantKey) {
    let family = FamilyId::new_random();
    let refresh = grant(GrantKind::RefreshToken, Some(family));
    clients[0].put(refresh.clone()).await.unwrap();
    let successors: Arc<Vec<Grant>> = Arc::new(
        (0..RACERS)
            .map(|_| grant(GrantKind::RefreshToken, Some(family)))
            .collect(),
    );
    let presented = refresh.key;
    let tries = successors.clone();
    let outcomes = race(clients, move |client, racer| {
        let successor = tries[racer].clone();
        async move {
            client
                .rotate(Rotation {
                    presented,
                    successor,
                    grace_seconds,
                })
                .await
                .unwrap()
        }
    })
    .await;
    (outcomes, successors, presented)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_races_have_exactly_one_winner() {
    let cluster = StoreCluster::start(3).await.unwrap();
    let clients = clients(&cluster);

    // Consume: one Consumed, every other caller told it was consumed already.
    let code = grant(GrantKind::AuthorizationCode, Some(FamilyId::new_random()));
    assert_eq!(
        clients[0].put(code.clone()).await.unwrap(),
        PutOutcome::Stored
    );
    let key = code.key;
    let outcomes = race(&clients, move |client, _| async move {
        client.consume(&key).await.unwrap()
    })
    .await;
    let consumed = outcomes
        .iter()
        .filter(|o| matches!(o, ConsumeOutcome::Consumed(_)))
        .count();
    assert_eq!(consumed, 1, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            ConsumeOutcome::Consumed(_) | ConsumeOutcome::AlreadyConsumed(_)
        )),
        "{outcomes:?}"
    );

    // Rotate with a grace period: one Rotated, the others get the winner's successor.
    let (outcomes, successors, _) = rotation_race(&clients, 30).await;
    let winners: Vec<usize> = (0..RACERS)
        .filter(|racer| matches!(outcomes[*racer], RotateOutcome::Rotated { .. }))
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let winning_successor = &successors[winners[0]];
    for outcome in &outcomes {
        match outcome {
            RotateOutcome::Rotated { .. } => {}
            RotateOutcome::WithinGrace { successor, .. } => {
                assert_eq!(successor.key, winning_successor.key);
            }
            other => panic!("a racer within the grace period got {other:?}"),
        }
    }
    assert!(
        clients[0]
            .get(&winning_successor.key)
            .await
            .unwrap()
            .is_some()
    );

    // Rotate without grace: one Rotated, a reuse is detected and the family is gone.
    let (outcomes, successors, presented) = rotation_race(&clients, 0).await;
    let winners: Vec<usize> = (0..RACERS)
        .filter(|racer| matches!(outcomes[*racer], RotateOutcome::Rotated { .. }))
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, RotateOutcome::ReuseDetected { .. })),
        "{outcomes:?}"
    );
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            RotateOutcome::Rotated { .. }
                | RotateOutcome::ReuseDetected { .. }
                | RotateOutcome::NotFound
        )),
        "{outcomes:?}"
    );
    for client in &clients {
        assert_eq!(client.get(&presented).await.unwrap(), None);
        assert_eq!(client.get(&successors[winners[0]].key).await.unwrap(), None);
    }
}

/// `client_auth.yaml` for a serve pod: the shared file key and issuer.
fn assertion_pod_config(keys: &std::path::Path, key: &ClientKey) -> String {
    let text = config(
        "client_auth.yaml",
        &[
            ("ALG", "ES256"),
            ("CLIENT_JWK", &key.public_jwk.to_string()),
        ],
    );
    let signing = format!(
        "signing: {{ algorithm: ES256, source: {{ kind: file, path: \"{}\" }} }}",
        keys.display()
    );
    let text = text.replace("signing:\n  algorithm: ES256", &signing);
    assert!(
        text.contains("kind: file"),
        "client_auth.yaml changed shape"
    );
    format!("{text}\nserver: {{ issuer: \"{POD_ISSUER}\" }}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_assertion_raced_through_two_pods_is_accepted_once() {
    let cluster = StoreCluster::start(3).await.unwrap();
    let keys = cluster.dir("keys");
    write_signing_key(&keys).unwrap();
    let key = ClientKey::generate("k1").unwrap();
    let config = assertion_pod_config(&keys, &key);
    let pods = [
        SigilDev::start_pod(&cluster.dir("pod-a"), &config, &cluster.endpoints())
            .await
            .unwrap(),
        SigilDev::start_pod(&cluster.dir("pod-b"), &config, &cluster.endpoints())
            .await
            .unwrap(),
    ];
    let assertion = key.assertion("jwt-auth-client", POD_ISSUER).unwrap();
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", &assertion),
    ]);
    let requests = (0..RACERS).map(|racer| {
        let url = pods[racer % 2].url("/connect/token");
        let body = body.clone();
        tokio::spawn(async move { post_form(&url, None, &body).await.unwrap() })
    });
    let answers: Vec<_> = join_all(requests)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let accepted = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!(accepted, 1, "{answers:?}");
    for answer in answers.iter().filter(|a| a.status != 200) {
        assert_eq!(
            answer.body["error"],
            Value::from("invalid_client"),
            "{answer:?}"
        );
    }
}
