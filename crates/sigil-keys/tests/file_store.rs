//! `FileKeySource` as a `KeyFileStore`, what `sigil keys generate|rotate` write through: files
//! are written whole, sidecars before their keys, removed on request, and never outside the
//! directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test

use sigil_core::time::Timestamp;
use sigil_keys::{
    Algorithm, FileKeySource, KeyFileChange, KeyFileStore, KeyFiles, KeyMetadata, KeySource,
    KeySourceError, SigningKey,
};
use std::path::Path;

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn write(files: &[(&str, Vec<u8>)]) -> KeyFileChange {
    KeyFileChange {
        write: files
            .iter()
            .map(|(name, contents)| ((*name).to_owned(), contents.clone()))
            .collect(),
        remove: Vec::new(),
    }
}

/// A change that removes `name` and writes nothing.
fn remove(name: &str) -> KeyFileChange {
    KeyFileChange {
        remove: vec![name.to_owned()],
        ..KeyFileChange::default()
    }
}

/// Applies `change`, which the store must refuse as invalid; `case` names it in the failure.
async fn assert_refused_as_invalid(store: &FileKeySource, change: KeyFileChange, case: &str) {
    let error = store.apply(change).await.unwrap_err();
    assert!(
        matches!(error, KeySourceError::InvalidMetadata { .. }),
        "{case}: {error:?}"
    );
}

fn key_pem() -> (String, Vec<u8>) {
    let (key, pem_text) = SigningKey::generate(Algorithm::ES256).unwrap();
    (key.kid().to_owned(), pem_text.into_bytes())
}

fn sidecar(created: u64) -> Vec<u8> {
    KeyMetadata {
        created: Some(created),
        ..KeyMetadata::default()
    }
    .to_json()
}

#[tokio::test]
async fn apply_writes_and_removes_files_and_the_source_reads_them() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("keys");
    let store = FileKeySource::new(&dir);
    assert_eq!(
        store.files().await.unwrap(),
        KeyFiles::new(),
        "created empty"
    );

    let (kid, pem_text) = key_pem();
    store
        .apply(write(&[
            ("k.pem", pem_text.clone()),
            ("k.json", sidecar(1_000)),
        ]))
        .await
        .unwrap();
    let files = store.files().await.unwrap();
    assert_eq!(files.keys().collect::<Vec<_>>(), ["k.json", "k.pem"]);
    assert_eq!(files["k.pem"], pem_text);
    let set = store.load().await.unwrap();
    assert_eq!(set.signing[0].kid(), kid);
    assert_eq!(set.signing[0].created(), Timestamp(1_000));

    // Replace one key by another in one change; removing a missing file is not an error.
    let (new_kid, new_pem) = key_pem();
    store
        .apply(KeyFileChange {
            write: write(&[("n.pem", new_pem)]).write,
            remove: vec![
                "k.pem".to_owned(),
                "k.json".to_owned(),
                "gone.pem".to_owned(),
            ],
        })
        .await
        .unwrap();
    assert_eq!(names(&dir), ["n.pem"], "no temporary files left behind");
    assert_eq!(store.load().await.unwrap().signing[0].kid(), new_kid);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("n.pem")), 0o600);
    }
}

#[tokio::test]
async fn sidecars_are_written_before_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileKeySource::new(dir.path());
    let (_, pem_text) = key_pem();

    // The sidecar cannot be written (its name is too long for the file system): its key is not
    // written either, so no reader sees the key without the `created` that delays its signing.
    // Every sidecar goes before any key, whatever the names' order.
    let long = format!("{}.json", "z".repeat(250));
    let error = store
        .apply(write(&[("a.pem", pem_text), (&long, sidecar(5))]))
        .await
        .unwrap_err();
    assert!(matches!(error, KeySourceError::Io { .. }), "{error:?}");
    assert!(error.to_string().contains(&long), "{error}");
    assert!(!dir.path().join("a.pem").exists());
    assert!(
        names(dir.path()).is_empty(),
        "no temporary files left behind"
    );
}

#[tokio::test]
async fn names_that_would_leave_the_directory_or_hide_are_refused() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("keys");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(parent.path().join("victim.pem"), "keep me").unwrap();
    let store = FileKeySource::new(&dir);
    for name in [
        "../evil.pem",
        "sub/x.pem",
        "/tmp/evil.pem",
        ".hidden.pem",
        "..",
        ".",
        "",
    ] {
        let case = format!("{name:?}");
        assert_refused_as_invalid(&store, write(&[(name, b"x".to_vec())]), &case).await;
        assert_refused_as_invalid(&store, remove(name), &case).await;
    }
    let error = store.apply(remove("../victim.pem")).await.unwrap_err();
    assert!(error.to_string().contains("../victim.pem"), "{error}");
    assert_eq!(
        std::fs::read_to_string(parent.path().join("victim.pem")).unwrap(),
        "keep me"
    );
    assert!(names(&dir).is_empty());
    assert_eq!(names(parent.path()), ["keys", "victim.pem"]);
    assert!(!Path::new("/tmp/evil.pem").exists());
}

/// `sigil keys` only ever adds files: a name that is taken (two rotations in the same second,
/// a file put there by hand) fails the whole change, and nothing is replaced or written.
#[tokio::test]
async fn an_existing_file_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileKeySource::new(dir.path());
    let (_, pem_text) = key_pem();
    store
        .apply(write(&[("k.pem", pem_text.clone())]))
        .await
        .unwrap();

    let (_, other) = key_pem();
    let error = store
        .apply(write(&[("a.json", sidecar(5)), ("k.pem", other)]))
        .await
        .unwrap_err();
    assert!(
        matches!(error, KeySourceError::AlreadyExists { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("k.pem"), "{error}");
    assert_eq!(std::fs::read(dir.path().join("k.pem")).unwrap(), pem_text);
    assert_eq!(
        names(dir.path()),
        ["k.pem"],
        "nothing of the change was written"
    );
}
