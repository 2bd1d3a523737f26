//! What configuration validation finds: every problem at once, each at its path.

use sigil_core::error::ErrorChain;

/// One problem in the configuration, at a path such as `clients[2].secrets[0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Where.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found by validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Issues(pub Vec<ConfigIssue>);

impl Issues {
    /// Records a problem.
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigIssue {
            path: path.into(),
            message: message.into(),
        });
    }

    /// Records `error` as the problem, with its causes (`message: cause: cause`), as
    /// [`ErrorChain`] prints an error chain.
    pub fn push_error(
        &mut self,
        path: impl Into<String>,
        error: &(dyn std::error::Error + 'static),
    ) {
        self.push(path, ErrorChain(error).to_string());
    }

    /// `Ok(build())` if nothing was recorded.
    pub fn into_result<T>(self, build: impl FnOnce() -> T) -> Result<T, Issues> {
        if self.0.is_empty() {
            Ok(build())
        } else {
            Err(self)
        }
    }
}

#[cfg(test)]
impl Issues {
    /// What `validate` records.
    pub(crate) fn found_by(validate: impl FnOnce(&mut Self)) -> Self {
        let mut issues = Self::default();
        validate(&mut issues);
        issues
    }

    /// Each problem as `path: message`.
    pub(crate) fn lines(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    /// Each problem's path.
    pub(crate) fn paths(&self) -> Vec<String> {
        self.0.iter().map(|issue| issue.path.clone()).collect()
    }
}

impl std::fmt::Display for Issues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for issue in &self.0 {
            writeln!(f, "{issue}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Issues {}
