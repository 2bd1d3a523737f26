//! `sessions.login_throttle`: how failed sign-ins slow down further attempts, per account and
//! per client address, counted in the grant store across every pod (see `deploy/SIGN-IN.md`).

use crate::config::Issues;
use serde::Deserialize;
use sigil_core::authorize::LoginThrottle;
use sigil_core::authorize::client_address::AddressRange;
use sigil_core::store::ThrottlePolicy;
use std::time::Duration;

/// `sessions.login_throttle`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginThrottleConfig {
    /// Throttle at all. Default true.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Failures counted per user name.
    #[serde(default)]
    pub per_account: ThrottleConfig,
    /// Failures counted per client address.
    #[serde(default)]
    pub per_address: ThrottleConfig,
    /// Reverse proxies (addresses or CIDR blocks) whose `X-Forwarded-For` names the client.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

/// One count's rule; unset fields take that count's default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleConfig {
    /// Failures before attempts must wait (at least 1).
    pub free_failures: Option<u32>,
    /// The first wait; doubles with each further failure.
    #[serde(default, with = "humantime_serde")]
    pub first_delay: Option<Duration>,
    /// The longest wait.
    #[serde(default, with = "humantime_serde")]
    pub max_delay: Option<Duration>,
    /// How long failures are remembered after the last one.
    #[serde(default, with = "humantime_serde")]
    pub window: Option<Duration>,
}

fn enabled() -> bool {
    true
}

impl Default for LoginThrottleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            per_account: ThrottleConfig::default(),
            per_address: ThrottleConfig::default(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl ThrottleConfig {
    /// The rule, with `defaults` for what is not set. Durations are whole seconds (validated).
    fn policy(&self, defaults: ThrottlePolicy) -> ThrottlePolicy {
        let seconds =
            |value: Option<Duration>, default: u64| value.map_or(default, |d| d.as_secs());
        ThrottlePolicy {
            free_failures: self.free_failures.unwrap_or(defaults.free_failures),
            first_delay_secs: seconds(self.first_delay, defaults.first_delay_secs),
            max_delay_secs: seconds(self.max_delay, defaults.max_delay_secs),
            window_secs: seconds(self.window, defaults.window_secs),
        }
    }

    fn validate(&self, path: &str, defaults: ThrottlePolicy, issues: &mut Issues) {
        for (field, value) in [
            ("first_delay", self.first_delay),
            ("max_delay", self.max_delay),
            ("window", self.window),
        ] {
            // Waits are counted and sent (`Retry-After`) in whole seconds.
            if value.is_some_and(|d| d.subsec_nanos() != 0 || d.is_zero()) {
                issues.push(
                    format!("{path}.{field}"),
                    "must be a whole number of seconds, at least 1s",
                );
            }
        }
        let policy = self.policy(defaults);
        if policy.free_failures == 0 {
            issues.push(format!("{path}.free_failures"), "must be at least 1");
        }
        if policy.max_delay_secs < policy.first_delay_secs {
            issues.push(
                format!("{path}.max_delay"),
                "must not be shorter than first_delay",
            );
        }
        if policy.window_secs < policy.max_delay_secs {
            // Otherwise a counter could be forgotten while its wait grows.
            issues.push(
                format!("{path}.window"),
                "must not be shorter than max_delay",
            );
        }
    }
}

impl LoginThrottleConfig {
    pub(in crate::config) fn validate(&self, issues: &mut Issues) {
        let path = "sessions.login_throttle";
        self.per_account.validate(
            &format!("{path}.per_account"),
            LoginThrottle::DEFAULT_PER_ACCOUNT,
            issues,
        );
        self.per_address.validate(
            &format!("{path}.per_address"),
            LoginThrottle::DEFAULT_PER_ADDRESS,
            issues,
        );
        for (i, proxy) in self.trusted_proxies.iter().enumerate() {
            if let Err(error) = proxy.parse::<AddressRange>() {
                issues.push(format!("{path}.trusted_proxies[{i}]"), error.to_string());
            }
        }
    }

    /// The throttle, as the authorizer takes it (from a validated configuration).
    pub fn settings(&self) -> LoginThrottle {
        if !self.enabled {
            return LoginThrottle::off();
        }
        LoginThrottle {
            per_account: Some(self.per_account.policy(LoginThrottle::DEFAULT_PER_ACCOUNT)),
            per_address: Some(self.per_address.policy(LoginThrottle::DEFAULT_PER_ADDRESS)),
            trusted_proxies: self
                .trusted_proxies
                .iter()
                .filter_map(|proxy| proxy.parse().ok())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> LoginThrottleConfig {
        serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{e}"))
    }

    fn issues_of(yaml: &str) -> Vec<String> {
        Issues::found_by(|issues| parse(yaml).validate(issues)).lines()
    }

    #[test]
    fn defaults_and_overrides() {
        let defaults = parse("{}").settings();
        assert_eq!(defaults, LoginThrottle::default());
        let set = parse(
            "{ per_account: { free_failures: 3, first_delay: 5s }, trusted_proxies: [10.0.0.0/8] }",
        )
        .settings();
        let account = set.per_account.unwrap_or_else(|| panic!("off"));
        assert_eq!(account.free_failures, 3);
        assert_eq!(account.first_delay_secs, 5);
        assert_eq!(account.max_delay_secs, 900);
        assert_eq!(set.per_address, Some(LoginThrottle::DEFAULT_PER_ADDRESS));
        assert_eq!(set.trusted_proxies.len(), 1);
        assert_eq!(parse("{ enabled: false }").settings(), LoginThrottle::off());
    }

    #[test]
    fn what_cannot_be_honoured_is_refused() {
        assert_eq!(
            issues_of(
                "{ per_account: { first_delay: 900ms, free_failures: 0 }, \
                   per_address: { max_delay: 2s, first_delay: 5s, window: 1s }, \
                   trusted_proxies: [10.0.0.0/40, proxy.local] }"
            ),
            [
                "sessions.login_throttle.per_account.first_delay: must be a whole number of seconds, at least 1s",
                "sessions.login_throttle.per_account.free_failures: must be at least 1",
                "sessions.login_throttle.per_address.max_delay: must not be shorter than first_delay",
                "sessions.login_throttle.per_address.window: must not be shorter than max_delay",
                "sessions.login_throttle.trusted_proxies[0]: `10.0.0.0/40` is not an IP address or a CIDR block such as 10.0.0.0/8",
                "sessions.login_throttle.trusted_proxies[1]: `proxy.local` is not an IP address or a CIDR block such as 10.0.0.0/8",
            ]
        );
        assert!(issues_of("{}").is_empty());
        assert!(
            serde_yaml::from_str::<LoginThrottleConfig>("{ per_account: { limit: 3 } }").is_err()
        );
    }
}
