//! Several Secrets' `data` merged into one set of key files.

use crate::api::{location, missing};
use k8s_openapi::api::core::v1::Secret;
use sigil_keys::{KeyFiles, KeySourceError};
use std::collections::BTreeMap;

/// Merges the `data` of `secrets` (read for `names`, in the same order; `None` for one that
/// does not exist). A file name in two Secrets is refused rather than one silently winning:
/// which key signs must not depend on the order of a list.
pub(crate) fn merge_secrets(
    namespace: &str,
    names: &[String],
    secrets: &[Option<Secret>],
) -> Result<KeyFiles, KeySourceError> {
    let mut files = KeyFiles::new();
    let mut owners: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, secret) in names.iter().zip(secrets) {
        let secret = secret.as_ref().ok_or_else(|| missing(namespace, name))?;
        for (file, contents) in secret.data.iter().flatten() {
            if let Some(first) = owners.insert(file, name) {
                return Err(KeySourceError::InvalidMetadata {
                    path: format!(
                        "{} and {}",
                        location(namespace, first),
                        location(namespace, name)
                    ),
                    reason: format!(
                        "both hold `{file}`; a file name may appear in one Secret only"
                    ),
                });
            }
            files.insert(file.clone(), contents.0.clone());
        }
    }
    Ok(files)
}

/// A Secret's `data`, decoded.
pub(crate) fn files_of(secret: &Secret) -> KeyFiles {
    secret
        .data
        .iter()
        .flatten()
        .map(|(file, contents)| (file.clone(), contents.0.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;

    fn secret(files: &[(&str, &str)]) -> Option<Secret> {
        let data = files
            .iter()
            .map(|(name, text)| ((*name).to_owned(), ByteString(text.as_bytes().to_vec())))
            .collect();
        Some(Secret {
            data: Some(data),
            ..Secret::default()
        })
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn files_of_all_secrets_are_merged() {
        let secrets = [
            secret(&[("a.pem", "A"), ("a.json", "{}")]),
            secret(&[("b.jwk", "B")]),
        ];
        let files = merge_secrets("ns", &names(&["one", "two"]), &secrets).unwrap();
        let listed: Vec<_> = files.keys().map(String::as_str).collect();
        assert_eq!(listed, ["a.json", "a.pem", "b.jwk"]);
        assert_eq!(files["b.jwk"], b"B");
    }

    #[test]
    fn a_name_in_two_secrets_is_refused_naming_both() {
        let secrets = [secret(&[("a.pem", "A")]), secret(&[("a.pem", "other")])];
        let error = merge_secrets("ns", &names(&["one", "two"]), &secrets).unwrap_err();
        let KeySourceError::InvalidMetadata { path, reason } = error else {
            panic!("{error:?}");
        };
        assert!(path.contains("ns/one") && path.contains("ns/two"), "{path}");
        assert!(reason.contains("a.pem"), "{reason}");
    }

    #[test]
    fn a_missing_secret_is_named() {
        let secrets = [secret(&[("a.pem", "A")]), None];
        let error = merge_secrets("ns", &names(&["one", "two"]), &secrets).unwrap_err();
        let KeySourceError::Io { path, source } = error else {
            panic!("{error:?}");
        };
        assert_eq!(path, "Kubernetes Secret ns/two");
        assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn a_secret_without_data_holds_no_files() {
        let secrets = [Some(Secret::default())];
        assert!(
            merge_secrets("ns", &names(&["one"]), &secrets)
                .unwrap()
                .is_empty()
        );
    }
}
