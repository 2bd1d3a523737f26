//! Key parsing and the file and dev sources.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test code: a panic is a failed test
use sigil_core::time::Timestamp;
use sigil_keys::{
    Algorithm, DevKeySource, FileKeySource, KeyError, KeySource, KeySourceError, SigningKey,
};
use std::process::Command;

fn openssl(args: &[&str]) -> Option<String> {
    let output = Command::new("openssl").args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn pkcs8_pems_of_every_type_parse_with_the_default_algorithm() {
    for alg in Algorithm::ALL {
        let (_, pem) = SigningKey::generate(alg).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let default_alg = match alg {
            Algorithm::PS256 => Algorithm::RS256,
            other => other,
        };
        assert_eq!(
            SigningKey::from_pem(&pem, None, Timestamp(0))
                .unwrap()
                .alg(),
            default_alg
        );
    }
}

#[test]
fn pkcs1_and_sec1_pems_parse() {
    // Traditional encodings, made by openssl where it is installed.
    let Some(rsa) = openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-outform",
        "PEM",
    ]) else {
        eprintln!("openssl not installed; PKCS#1/SEC1 conversion not exercised");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rsa_path = dir.path().join("rsa.pem");
    std::fs::write(&rsa_path, rsa).unwrap();
    let pkcs1 = openssl(&["rsa", "-in", rsa_path.to_str().unwrap(), "-traditional"]).unwrap();
    assert!(pkcs1.contains("BEGIN RSA PRIVATE KEY"));
    assert_eq!(
        SigningKey::from_pem(&pkcs1, Some(Algorithm::PS256), Timestamp(0))
            .unwrap()
            .alg(),
        Algorithm::PS256
    );
    let sec1 = openssl(&["ecparam", "-name", "prime256v1", "-genkey", "-noout"]).unwrap();
    assert!(sec1.contains("BEGIN EC PRIVATE KEY"));
    assert_eq!(
        SigningKey::from_pem(&sec1, None, Timestamp(0))
            .unwrap()
            .alg(),
        Algorithm::ES256
    );
}

#[test]
fn weak_mismatched_and_garbage_keys_are_refused() {
    if let Some(weak) = openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:1024",
    ]) {
        assert!(matches!(
            SigningKey::from_pem(&weak, None, Timestamp(0)),
            Err(KeyError::Mismatch { .. }) | Err(KeyError::Rejected(_))
        ));
    }
    let (_, ec) = SigningKey::generate(Algorithm::ES256).unwrap();
    assert!(matches!(
        SigningKey::from_pem(&ec, Some(Algorithm::RS256), Timestamp(0)),
        Err(KeyError::Mismatch { .. })
    ));
    assert!(matches!(
        SigningKey::from_pem("not pem", None, Timestamp(0)),
        Err(KeyError::Encoding(_))
    ));
    let certificate = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert!(matches!(
        SigningKey::from_pem(certificate, None, Timestamp(0)),
        Err(KeyError::Encoding(_))
    ));
}

#[tokio::test]
async fn the_dev_source_generates_once_and_reuses_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let source = DevKeySource::new(dir.path().join("keys"), Algorithm::PS256);
    let first = source.load().await.unwrap();
    let second = source.load().await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].kid(), second[0].kid());
    assert_eq!(
        second[0].alg(),
        Algorithm::PS256,
        "the sidecar keeps the algorithm"
    );
    // Asking for another algorithm adds a key and keeps the first.
    let both = DevKeySource::new(dir.path().join("keys"), Algorithm::ES256)
        .load()
        .await
        .unwrap();
    assert_eq!(both.len(), 2);
    assert!(both.iter().any(|key| key.kid() == first[0].kid()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for entry in std::fs::read_dir(dir.path().join("keys")).unwrap() {
            let mode = entry.unwrap().metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
}

#[tokio::test]
async fn file_source_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        FileKeySource::new(dir.path()).load().await,
        Err(KeySourceError::Empty(_))
    ));
    std::fs::write(dir.path().join("broken.pem"), "garbage").unwrap();
    let error = FileKeySource::new(dir.path()).load().await.unwrap_err();
    assert!(error.to_string().contains("broken.pem"), "{error}");
    std::fs::remove_file(dir.path().join("broken.pem")).unwrap();
    let (_, pem) = SigningKey::generate(Algorithm::EdDSA).unwrap();
    std::fs::write(dir.path().join("k.pem"), pem).unwrap();
    std::fs::write(dir.path().join("k.json"), r#"{"alg":"HS256"}"#).unwrap();
    let error = FileKeySource::new(dir.path()).load().await.unwrap_err();
    assert!(error.to_string().contains("k.json"), "{error}");
    std::fs::write(dir.path().join("k.json"), r#"{"not_before": 77}"#).unwrap();
    let keys = FileKeySource::new(dir.path()).load().await.unwrap();
    assert_eq!(keys[0].not_before(), Timestamp(77));
}
