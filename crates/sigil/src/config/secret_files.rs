//! `secrets_file` (clients) and `introspection_secrets_file` (API resources): stored secrets
//! kept outside the configuration file, so that the file can live in a ConfigMap or in values
//! while the secrets come from a Kubernetes Secret mounted beside it.
//!
//! The files are read once, by [`Config::load`](super::Config::load): their lines join the
//! inline list, and validation then checks them like inline entries. A configuration parsed
//! from text alone leaves the field set, and validation reports it as not read.

use super::{Config, LoadError};
use std::path::{Path, PathBuf};

impl Config {
    /// Reads every secrets file named in the configuration, relative paths from `base`
    /// (the configuration file's directory).
    pub(super) fn read_secret_files(&mut self, base: &Path) -> Result<(), LoadError> {
        for (index, client) in self.clients.iter_mut().enumerate() {
            if let Some(file) = client.secrets_file.take() {
                let field = format!("clients[{index}].secrets_file");
                client.secrets.extend(read(&field, &base.join(file))?);
            }
        }
        for (index, resource) in self.api_resources.iter_mut().enumerate() {
            if let Some(file) = resource.introspection_secrets_file.take() {
                let field = format!("api_resources[{index}].introspection_secrets_file");
                resource
                    .introspection_secrets
                    .extend(read(&field, &base.join(file))?);
            }
        }
        Ok(())
    }
}

/// The stored secrets in a file: one per line; blank lines and `#` comments are skipped.
fn read(field: &str, path: &PathBuf) -> Result<Vec<String>, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::SecretsFile {
        field: field.to_owned(),
        path: path.display().to_string(),
        source,
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

/// The issue for a secrets file that was never read (the configuration did not come from
/// [`Config::load`]), so that its secrets are not silently missing.
pub(super) const NOT_READ: &str =
    "was not read: only a configuration loaded from a file reads secrets files";

#[cfg(test)]
mod tests {
    use super::super::Config;
    use sigil_core::grants::BUILT_IN_GRANT_TYPES as GRANTS;

    const SHA: &str = "sha256:n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg";

    fn config_with_files(dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("sigil.yaml");
        std::fs::write(
            &path,
            "api_scopes: [{ name: a.read }]\n\
             api_resources: [{ resource: \"https://a\", scopes: [a.read], \
             introspection_secrets_file: secrets/api }]\n\
             clients:\n  - client_id: app\n    secrets_file: secrets/app\n    \
             grant_types: [client_credentials]\n    scopes: [a.read]\n",
        )
        .unwrap();
        std::fs::create_dir(dir.join("secrets")).unwrap();
        path
    }

    #[test]
    fn secrets_files_are_read_relative_to_the_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let path = config_with_files(dir.path());
        std::fs::write(
            dir.path().join("secrets/app"),
            format!("# rotated 2026-12\n{SHA}\n\n{SHA}\n"),
        )
        .unwrap();
        std::fs::write(dir.path().join("secrets/api"), SHA).unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.clients[0].secrets, vec![SHA, SHA]);
        assert_eq!(config.api_resources[0].introspection_secrets, vec![SHA]);
        let catalog = config.validate(GRANTS);
        assert!(catalog.is_ok(), "{:?}", catalog.err().map(|i| i.lines()));
    }

    #[test]
    fn a_missing_secrets_file_fails_loading_with_its_field_and_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = config_with_files(dir.path());
        std::fs::write(dir.path().join("secrets/api"), SHA).unwrap();
        let error = Config::load(&path).unwrap_err().to_string();
        assert!(
            error.contains("clients[0].secrets_file") && error.contains("secrets/app"),
            "{error}"
        );
    }

    #[test]
    fn secrets_from_a_file_are_validated_like_inline_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = config_with_files(dir.path());
        std::fs::write(dir.path().join("secrets/app"), "not-a-stored-secret\n").unwrap();
        std::fs::write(dir.path().join("secrets/api"), SHA).unwrap();
        let issues = issues_of(Config::load(&path).unwrap());
        assert!(
            issues
                .iter()
                .any(|issue| issue.starts_with("clients[0].secrets")),
            "{issues:?}"
        );
    }

    #[test]
    fn a_secrets_file_in_parsed_text_is_reported_not_read() {
        let text = format!(
            "api_scopes: [{{ name: a.read }}]\n\
             clients:\n  - client_id: app\n    secrets: [\"{SHA}\"]\n    \
             secrets_file: secrets/app\n    grant_types: [client_credentials]\n    \
             scopes: [a.read]\n"
        );
        let issues = issues_of(Config::parse(&text).unwrap());
        assert!(
            issues
                .iter()
                .any(|issue| issue.starts_with("clients[0].secrets_file")),
            "{issues:?}"
        );
    }

    /// What validation reports about `config`, one line per issue (none when it is valid).
    fn issues_of(config: Config) -> Vec<String> {
        config
            .validate(GRANTS)
            .err()
            .map(|issues| issues.lines())
            .unwrap_or_default()
    }
}
