//! Loading keys: one Secret, several merged, and the errors a user would meet.

use super::support::{NAMESPACE, client, loaded_kids, pem_file, session_secret_file, source};
use sigil_keys::{KeySource as _, KeySourceError};
use sigil_kube::{KubeSecretKeySource, SetupError};
use sigil_testkit::kube_api::FakeKubeApi;

#[tokio::test]
async fn keys_load_from_a_secret() {
    let api = FakeKubeApi::start().await.unwrap();
    let (files, kid) = pem_file("signing");
    api.set_secret(NAMESPACE, "sigil-keys", files);
    let source = source(&api, &["sigil-keys"]);

    assert_eq!(loaded_kids(&source).await, [kid]);
    assert_eq!(source.describe(), "Kubernetes Secret sigil/sigil-keys");
}

#[tokio::test]
async fn the_entries_of_two_secrets_are_merged() {
    let api = FakeKubeApi::start().await.unwrap();
    let (first, first_kid) = pem_file("first");
    let (mut second, second_kid) = pem_file("second");
    second.extend(session_secret_file("session-1"));
    api.set_secret(NAMESPACE, "sigil-keys", first);
    api.set_secret(NAMESPACE, "sigil-more-keys", second);
    let source = source(&api, &["sigil-keys", "sigil-more-keys"]);

    let keys = source.load().await.unwrap();
    let mut kids: Vec<_> = keys
        .signing
        .iter()
        .map(|key| key.kid().to_owned())
        .collect();
    kids.sort();
    let mut expected = vec![first_kid, second_kid];
    expected.sort();
    assert_eq!(kids, expected);
    assert_eq!(keys.secrets.len(), 1);
    assert_eq!(keys.secrets[0].id(), "session-1");
}

#[tokio::test]
async fn a_file_name_in_two_secrets_is_an_error_naming_both() {
    let api = FakeKubeApi::start().await.unwrap();
    api.set_secret(NAMESPACE, "sigil-keys", pem_file("signing").0);
    api.set_secret(NAMESPACE, "sigil-old-keys", pem_file("signing").0);
    let source = source(&api, &["sigil-keys", "sigil-old-keys"]);

    let error = source.load().await.unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, KeySourceError::InvalidMetadata { .. }),
        "{error:?}"
    );
    for expected in ["sigil/sigil-keys", "sigil/sigil-old-keys", "signing.pem"] {
        assert!(message.contains(expected), "{message}");
    }
}

#[tokio::test]
async fn a_missing_secret_is_an_error_naming_it() {
    let api = FakeKubeApi::start().await.unwrap();
    api.set_secret(NAMESPACE, "sigil-keys", pem_file("signing").0);
    let source = source(&api, &["sigil-keys", "sigil-typo"]);

    let error = source.load().await.unwrap_err();
    let KeySourceError::Io {
        path,
        source: cause,
    } = &error
    else {
        panic!("expected a not-found error, got {error:?}");
    };
    assert_eq!(path, "Kubernetes Secret sigil/sigil-typo");
    assert_eq!(cause.kind(), std::io::ErrorKind::NotFound);
}

#[tokio::test]
async fn a_secret_without_a_signing_key_is_empty() {
    let api = FakeKubeApi::start().await.unwrap();
    api.set_secret(NAMESPACE, "sigil-keys", session_secret_file("session-1"));
    let source = source(&api, &["sigil-keys"]);

    let error = source.load().await.unwrap_err();
    assert!(matches!(error, KeySourceError::Empty(_)), "{error:?}");
}

#[tokio::test]
async fn an_unparsable_key_names_the_secret_and_file() {
    let api = FakeKubeApi::start().await.unwrap();
    let files = [("signing.pem".to_owned(), b"not a key".to_vec())].into();
    api.set_secret(NAMESPACE, "sigil-keys", files);
    let source = source(&api, &["sigil-keys"]);

    let error = source.load().await.unwrap_err();
    let KeySourceError::InvalidKey { path, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(path, "Kubernetes Secret sigil/sigil-keys/signing.pem");
}

#[tokio::test]
async fn bad_configuration_is_refused_before_any_request() {
    let api = FakeKubeApi::start().await.unwrap();
    let none: [&str; 0] = [];
    let errors = [
        KubeSecretKeySource::new(client(&api), NAMESPACE, none).unwrap_err(),
        KubeSecretKeySource::new(client(&api), NAMESPACE, ["keys", "keys"]).unwrap_err(),
        KubeSecretKeySource::new(client(&api), NAMESPACE, ["keys,other"]).unwrap_err(),
        KubeSecretKeySource::new(client(&api), "Sigil", ["keys"]).unwrap_err(),
    ];
    assert!(matches!(errors[0], SetupError::NoSecrets));
    assert!(matches!(errors[1], SetupError::DuplicateSecret(_)));
    assert!(matches!(
        errors[2],
        SetupError::InvalidName {
            what: "Secret name",
            ..
        }
    ));
    assert!(matches!(
        errors[3],
        SetupError::InvalidName {
            what: "namespace",
            ..
        }
    ));
    assert!(api.requests().is_empty(), "{:?}", api.requests());
}
