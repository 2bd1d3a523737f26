//! `sessions`: the sign-in session (lifetime, cookie security) and the login throttle.

mod login_throttle;

pub use login_throttle::LoginThrottleConfig;

use super::Issues;
use serde::Deserialize;
use sigil_core::context::SessionSettings;
use std::time::Duration;

/// How users' sign-ins and remembered consent last, and how the session cookie is sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsConfig {
    /// Send cookies with `Secure`. Default: true when the issuer is https.
    pub cookie_secure: Option<bool>,
    /// How long a sign-in lasts. Default 8h.
    #[serde(default = "default_lifetime", with = "humantime_serde")]
    pub lifetime: Duration,
    /// How long remembered consent lasts. Default 90d.
    #[serde(default = "default_consent_lifetime", with = "humantime_serde")]
    pub consent_lifetime: Duration,
    /// How failed sign-ins slow down further attempts.
    #[serde(default)]
    pub login_throttle: LoginThrottleConfig,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            cookie_secure: None,
            lifetime: default_lifetime(),
            consent_lifetime: default_consent_lifetime(),
            login_throttle: LoginThrottleConfig::default(),
        }
    }
}

fn default_lifetime() -> Duration {
    SessionSettings::default().lifetime
}

fn default_consent_lifetime() -> Duration {
    SessionSettings::default().consent_lifetime
}

impl SessionsConfig {
    pub(super) fn validate(&self, issues: &mut Issues) {
        if self.lifetime.is_zero() {
            issues.push("sessions.lifetime", "must be longer than zero");
        }
        if self.consent_lifetime.is_zero() {
            issues.push("sessions.consent_lifetime", "must be longer than zero");
        }
        self.login_throttle.validate(issues);
    }

    /// The lifetimes and the sign-in throttle, as the core services take them.
    pub fn settings(&self) -> SessionSettings {
        SessionSettings {
            lifetime: self.lifetime,
            consent_lifetime: self.consent_lifetime,
            login_throttle: self.login_throttle.settings(),
        }
    }

    /// True if cookies carry `Secure`: as configured, else when the issuer is https (a browser
    /// would not send a `Secure` cookie back to a plain-http issuer).
    pub fn cookie_secure(&self, issuer: &str) -> bool {
        self.cookie_secure
            .unwrap_or_else(|| issuer.starts_with("https://"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_secure_for_https_issuers_unless_configured() {
        let default = SessionsConfig::default();
        assert!(default.cookie_secure("https://login.example.com"));
        assert!(!default.cookie_secure("http://127.0.0.1:8080"));
        let forced = SessionsConfig {
            cookie_secure: Some(false),
            ..SessionsConfig::default()
        };
        assert!(!forced.cookie_secure("https://login.example.com"));
    }
}
