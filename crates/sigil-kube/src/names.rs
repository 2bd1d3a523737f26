//! Checks namespace and Secret names before they reach a URL or a field selector, so a
//! typo is a clear error at start-up instead of a 404 or a selector that matches nothing.

use crate::SetupError;

/// A namespace: an RFC 1123 label.
pub(crate) fn check_namespace(name: &str) -> Result<(), SetupError> {
    let valid = name.len() <= 63 && is_rfc1123_label(name);
    valid.then_some(()).ok_or_else(|| SetupError::InvalidName {
        what: "namespace",
        name: name.to_owned(),
        rule: "lower-case letters, digits and `-`, starting and ending with a letter or digit, \
               at most 63 characters",
    })
}

/// A Secret name: an RFC 1123 subdomain.
pub(crate) fn check_secret_name(name: &str) -> Result<(), SetupError> {
    let valid = name.len() <= 253 && name.split('.').all(is_rfc1123_label);
    valid.then_some(()).ok_or_else(|| SetupError::InvalidName {
        what: "Secret name",
        name: name.to_owned(),
        rule: "lower-case letters, digits, `-` and `.`, each dot-separated part starting and \
               ending with a letter or digit, at most 253 characters",
    })
}

/// A Secret key (a file name in the key-file layout): letters, digits, `-`, `_` and `.`.
pub(crate) fn is_secret_key(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
}

/// Lower-case letters, digits and `-`, starting and ending with a letter or digit.
fn is_rfc1123_label(label: &str) -> bool {
    let alphanumeric = |byte: u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
    let bytes = label.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) => {
            alphanumeric(first)
                && alphanumeric(last)
                && bytes.iter().all(|&byte| alphanumeric(byte) || byte == b'-')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_labels() {
        assert!(check_namespace("sigil-prod").is_ok());
        for bad in ["", "Sigil", "-sigil", "sigil-", "a.b", &"a".repeat(64)] {
            assert!(check_namespace(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn secret_names_are_subdomains() {
        assert!(check_secret_name("sigil-keys").is_ok());
        assert!(check_secret_name("sigil.keys-1").is_ok());
        for bad in ["", "Keys", "keys,other", "keys=x", "a..b", ".keys", "keys."] {
            assert!(check_secret_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn secret_keys_are_file_names() {
        assert!(is_secret_key("signing-2026_01.pem"));
        for bad in ["", ".", "..", "a/b", "a b"] {
            assert!(!is_secret_key(bad), "{bad:?}");
        }
    }
}
