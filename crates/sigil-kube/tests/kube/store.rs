//! Writing, as `sigil keys generate|rotate` does: create on first use, and optimistic
//! concurrency on the resourceVersion read.

use super::support::{NAMESPACE, eventually, pem_file, source};
use sigil_keys::{KeyFileChange, KeyFileStore as _, KeySource as _, KeySourceError};
use sigil_kube::KubeSecretKeySource;
use sigil_testkit::kube_api::FakeKubeApi;
use std::collections::BTreeMap;

/// A source for Secret `sigil-keys`, which does not exist yet.
async fn source_before_the_secret(api: &FakeKubeApi) -> KubeSecretKeySource {
    let source = source(api, &["sigil-keys"]);
    assert!(source.files().await.unwrap().is_empty());
    source
}

/// A change that writes `files` and removes none.
fn write_only(files: BTreeMap<String, Vec<u8>>) -> KeyFileChange {
    KeyFileChange {
        write: files,
        remove: vec![],
    }
}

#[tokio::test]
async fn the_first_apply_creates_the_secret() {
    let api = FakeKubeApi::start().await.unwrap();
    let source = source_before_the_secret(&api).await;

    let (files, kid) = pem_file("signing");
    let change = write_only(files.clone());
    source.apply(change).await.unwrap();

    assert_eq!(api.secret_data(NAMESPACE, "sigil-keys").unwrap(), files);
    assert_eq!(api.count("POST", "/api/v1/namespaces/sigil/secrets"), 1);
    assert_eq!(source.files().await.unwrap(), files);
    // Loads answer from the watch, which reports the new Secret a moment later.
    let keys = eventually(|| async { source.load().await.ok() }).await;
    assert_eq!(keys.signing[0].kid(), kid);
}

#[tokio::test]
async fn apply_replaces_the_first_secret_writing_and_removing_files() {
    let api = FakeKubeApi::start().await.unwrap();
    let (old, _) = pem_file("old");
    api.set_secret(NAMESPACE, "sigil-keys", old);
    api.set_secret(NAMESPACE, "sigil-other", pem_file("other").0);
    let source = source(&api, &["sigil-keys", "sigil-other"]);

    let (new, _) = pem_file("new");
    let change = KeyFileChange {
        write: new.clone(),
        remove: vec!["old.pem".to_owned()],
    };
    source.files().await.unwrap();
    source.apply(change).await.unwrap();

    assert_eq!(api.secret_data(NAMESPACE, "sigil-keys").unwrap(), new);
    assert_eq!(
        api.count("PUT", "/api/v1/namespaces/sigil/secrets/sigil-keys"),
        1
    );
}

#[tokio::test]
async fn apply_after_someone_else_wrote_is_a_conflict_and_changes_nothing() {
    let api = FakeKubeApi::start().await.unwrap();
    api.set_secret(NAMESPACE, "sigil-keys", pem_file("first").0);
    let source = source(&api, &["sigil-keys"]);
    source.files().await.unwrap();

    // Another `sigil keys rotate` wins the race.
    let (theirs, _) = pem_file("theirs");
    api.set_secret(NAMESPACE, "sigil-keys", theirs.clone());
    let (ours, _) = pem_file("ours");
    let change = write_only(ours.clone());
    let error = source.apply(change.clone()).await.unwrap_err();
    assert!(matches!(error, KeySourceError::Conflict(_)), "{error:?}");
    assert_eq!(api.secret_data(NAMESPACE, "sigil-keys").unwrap(), theirs);

    // Read again, apply again: both writes are kept.
    source.files().await.unwrap();
    source.apply(change).await.unwrap();
    let mut both = theirs;
    both.extend(ours);
    assert_eq!(api.secret_data(NAMESPACE, "sigil-keys").unwrap(), both);
}

#[tokio::test]
async fn creating_a_secret_someone_else_created_meanwhile_is_a_conflict() {
    let api = FakeKubeApi::start().await.unwrap();
    let source = source_before_the_secret(&api).await;
    let (theirs, _) = pem_file("theirs");
    api.set_secret(NAMESPACE, "sigil-keys", theirs.clone());

    let change = write_only(pem_file("ours").0);
    let error = source.apply(change).await.unwrap_err();
    assert!(matches!(error, KeySourceError::Conflict(_)), "{error:?}");
    assert_eq!(api.secret_data(NAMESPACE, "sigil-keys").unwrap(), theirs);
}

#[tokio::test]
async fn a_file_name_the_api_would_refuse_is_refused_without_a_request() {
    let api = FakeKubeApi::start().await.unwrap();
    let source = source(&api, &["sigil-keys"]);
    let change = write_only([("../escape.pem".to_owned(), b"x".to_vec())].into());
    let error = source.apply(change).await.unwrap_err();
    assert!(
        matches!(error, KeySourceError::InvalidMetadata { .. }),
        "{error:?}"
    );
    assert_eq!(api.count("POST", "/api/v1/namespaces/sigil/secrets"), 0);
}

/// `sigil keys` only ever adds files: a name the Secret already holds fails the change, which
/// leaves the Secret as it was.
#[tokio::test]
async fn a_file_the_secret_already_holds_is_never_replaced() {
    let api = FakeKubeApi::start().await.unwrap();
    let (existing, _) = pem_file("signing");
    api.set_secret(NAMESPACE, "sigil-keys", existing.clone());
    let source = source(&api, &["sigil-keys"]);
    source.files().await.unwrap();

    let (mut replacement, _) = pem_file("signing");
    replacement.extend(pem_file("other").0);
    let error = source.apply(write_only(replacement)).await.unwrap_err();
    assert!(
        matches!(error, KeySourceError::AlreadyExists { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("signing.pem"), "{error}");
    assert_eq!(api.secret_data(NAMESPACE, "sigil-keys").unwrap(), existing);
    assert_eq!(
        api.count("PUT", "/api/v1/namespaces/sigil/secrets/sigil-keys"),
        0
    );
}
