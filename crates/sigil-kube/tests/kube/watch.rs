//! Watching: a changed Secret reaches a running source without a restart, and an outage
//! shows as `Unavailable` until the API server is back.

use super::support::{NAMESPACE, PATIENCE, eventually, loaded_kids, pem_file, source};
use sigil_keys::{KeySource as _, KeySourceError};
use sigil_kube::KubeSecretKeySource;
use sigil_testkit::kube_api::FakeKubeApi;
use std::collections::BTreeMap;
use tokio::time::timeout;

const SECRET_PATH: &str = "/api/v1/namespaces/sigil/secrets/sigil-keys";

/// A source for Secret `sigil-keys`, set to hold `files`, once its watch has listed the
/// Secret (the first listing is a change too).
async fn watching(api: &FakeKubeApi, files: &BTreeMap<String, Vec<u8>>) -> KubeSecretKeySource {
    api.set_secret(NAMESPACE, "sigil-keys", files.clone());
    let source = source(api, &["sigil-keys"]);
    timeout(PATIENCE, source.changed())
        .await
        .expect("first listing");
    source
}

#[tokio::test]
async fn an_updated_secret_wakes_changed_and_the_next_load_sees_the_new_key() {
    let api = FakeKubeApi::start().await.unwrap();
    let (mut files, old_kid) = pem_file("2026-01");
    let source = watching(&api, &files).await;
    assert_eq!(loaded_kids(&source).await, std::slice::from_ref(&old_kid));

    let (new_file, new_kid) = pem_file("2026-02");
    files.extend(new_file);
    api.set_secret(NAMESPACE, "sigil-keys", files);
    timeout(PATIENCE, source.changed())
        .await
        .expect("the watch event wakes changed()");
    let gets_before = api.count("GET", SECRET_PATH);
    let mut expected = vec![old_kid, new_kid];
    expected.sort();
    assert_eq!(loaded_kids(&source).await, expected);

    // Served from the watch, which lists and watches by field selector, not by a GET.
    assert_eq!(api.count("GET", SECRET_PATH), gets_before);
    let watches: Vec<_> = api
        .requests()
        .into_iter()
        .filter(|request| request.is_watch())
        .collect();
    assert!(!watches.is_empty());
    assert!(
        watches.iter().all(|request| request
            .query
            .contains("fieldSelector=metadata.name%3Dsigil-keys")),
        "{watches:?}"
    );
}

#[tokio::test]
async fn a_deleted_secret_wakes_changed_and_loads_fail_until_it_is_back() {
    let api = FakeKubeApi::start().await.unwrap();
    let (files, kid) = pem_file("signing");
    let source = watching(&api, &files).await;

    assert!(api.delete_secret(NAMESPACE, "sigil-keys"));
    timeout(PATIENCE, source.changed())
        .await
        .expect("the deletion wakes changed()");
    let error = source.load().await.unwrap_err();
    assert!(matches!(error, KeySourceError::Io { .. }), "{error:?}");

    api.set_secret(NAMESPACE, "sigil-keys", files);
    timeout(PATIENCE, source.changed())
        .await
        .expect("the re-creation wakes changed()");
    assert_eq!(loaded_kids(&source).await, [kid]);
}

#[tokio::test]
async fn an_outage_is_unavailable_and_the_source_recovers_with_changes_made_meanwhile() {
    let api = FakeKubeApi::start().await.unwrap();
    let (mut files, old_kid) = pem_file("2026-01");
    let source = watching(&api, &files).await;

    api.set_available(false);
    let error = eventually(|| async { source.load().await.err() }).await;
    let KeySourceError::Unavailable { source_name, .. } = &error else {
        panic!("expected Unavailable, got {error:?}");
    };
    assert_eq!(source_name, "Kubernetes Secret sigil/sigil-keys");

    let (new_file, new_kid) = pem_file("2026-02");
    files.extend(new_file);
    api.set_secret(NAMESPACE, "sigil-keys", files);
    api.set_available(true);

    // The watch re-lists after its back-off (under a second here) and reports the change
    // made during the outage; until then loads fall back to GETs.
    timeout(PATIENCE * 4, source.changed())
        .await
        .expect("the re-listing wakes changed()");
    let mut expected = vec![old_kid, new_kid];
    expected.sort();
    assert_eq!(loaded_kids(&source).await, expected);
}

#[tokio::test]
async fn an_api_server_unreachable_from_the_start_is_unavailable() {
    let api = FakeKubeApi::start().await.unwrap();
    let (files, kid) = pem_file("signing");
    api.set_secret(NAMESPACE, "sigil-keys", files);
    api.set_available(false);
    let source = source(&api, &["sigil-keys"]);

    let error = source.load().await.unwrap_err();
    assert!(
        matches!(error, KeySourceError::Unavailable { .. }),
        "{error:?}"
    );

    api.set_available(true);
    let kids = eventually(|| async { source.load().await.ok() }).await;
    assert_eq!(kids.signing[0].kid(), kid);
}
