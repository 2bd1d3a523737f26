//! The double, read by the `kube` client itself: what the source relies on parses.

use super::support::{NAMESPACE, client, pem_file};
use futures::TryStreamExt as _;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, WatchEvent, WatchParams};
use sigil_testkit::kube_api::FakeKubeApi;

#[tokio::test]
async fn kube_reads_the_doubles_watch_events_and_bookmarks_until_the_timeout() {
    let api = FakeKubeApi::start().await.unwrap();
    let (files, _) = pem_file("signing");
    api.set_secret(NAMESPACE, "sigil-keys", files.clone());
    let secrets: Api<Secret> = Api::namespaced(client(&api), NAMESPACE);
    let params = WatchParams::default()
        .fields("metadata.name=sigil-keys")
        .timeout(2);

    let events: Vec<_> = secrets
        .watch(&params, "0")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let Some(WatchEvent::Added(secret)) = events.first() else {
        panic!("{events:?}");
    };
    let data = secret.data.clone().unwrap_or_default();
    assert_eq!(
        data.into_iter()
            .map(|(name, bytes)| (name, bytes.0))
            .collect::<Vec<_>>(),
        files.into_iter().collect::<Vec<_>>()
    );
    assert!(
        events
            .iter()
            .skip(1)
            .all(|event| matches!(event, WatchEvent::Bookmark(_))),
        "{events:?}"
    );
    assert!(events.len() > 1, "a bookmark within two seconds");
}

#[tokio::test]
async fn kube_reads_the_doubles_status_errors() {
    let api = FakeKubeApi::start().await.unwrap();
    let secrets: Api<Secret> = Api::namespaced(client(&api), NAMESPACE);
    let error = secrets.get("sigil-keys").await.unwrap_err();
    let kube::Error::Api(status) = error else {
        panic!("{error:?}");
    };
    assert!(status.is_not_found(), "{status:?}");
    assert!(secrets.get_opt("sigil-keys").await.unwrap().is_none());
}
