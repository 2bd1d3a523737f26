//! Prometheus metrics. Names and help texts follow the exposition conventions
//! (`_total` counters, base units in names), so `promtool check metrics` is clean. Label values
//! are bounded: endpoints are route patterns, clients are registered clients, errors are RFC codes.

use prometheus::{
    Encoder as _, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// The service's metrics and the registry that exposes them.
pub struct Metrics {
    registry: Registry,
    /// Tokens issued, by grant type and client.
    pub tokens_issued: IntCounterVec,
    /// Token endpoint errors, by RFC error code.
    pub token_errors: IntCounterVec,
    /// Client authentication failures, by endpoint.
    pub client_auth_failures: IntCounterVec,
    /// Client authentications left undecided (secret checks saturated, or the grant store
    /// unreachable) and answered `503`, by endpoint.
    pub client_auth_deferred: IntCounterVec,
    /// Tokens revoked.
    pub tokens_revoked: IntCounterVec,
    /// Introspection requests, by result.
    pub introspections: IntCounterVec,
    /// Sign-in attempts on the login page, by outcome.
    pub sign_ins: IntCounterVec,
    /// Sign-in attempts refused unchecked because of earlier failures, by which count
    /// (`account` or `address`; never the user name or the address itself).
    pub sign_ins_throttled: IntCounterVec,
    /// HTTP request latency, by endpoint (route pattern) and method.
    pub request_duration: HistogramVec,
    /// HTTP responses, by endpoint (route pattern), method and status code: the error rate
    /// alert and the dashboard's error panels (the latency histogram has no status, which
    /// would multiply its buckets).
    pub requests: IntCounterVec,
    /// 1 while the grant store answered this pod's last probe (a linearizable read) within the
    /// probe period, else 0. Set by the binary's background probe; readiness ignores it.
    pub store_reachable: IntGauge,
}

impl Metrics {
    /// Registers every metric in a fresh registry.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let counter =
            |name: &str, help: &str, labels: &[&str]| -> Result<IntCounterVec, prometheus::Error> {
                let counter = IntCounterVec::new(Opts::new(name, help), labels)?;
                registry.register(Box::new(counter.clone()))?;
                Ok(counter)
            };
        let tokens_issued = counter(
            "sigil_tokens_issued_total",
            "Access tokens issued by the token endpoint.",
            &["grant_type", "client_id"],
        )?;
        let token_errors = counter(
            "sigil_token_errors_total",
            "Token endpoint requests answered with an OAuth error.",
            &["error"],
        )?;
        let client_auth_failures = counter(
            "sigil_client_authentication_failures_total",
            "Failed client authentications.",
            &["endpoint"],
        )?;
        let client_auth_deferred = counter(
            "sigil_client_authentication_deferred_total",
            "Client authentications not decided (secret checks saturated or the grant store \
             unreachable), answered with 503.",
            &["endpoint"],
        )?;
        let tokens_revoked = counter(
            "sigil_tokens_revoked_total",
            "Tokens revoked at the revocation endpoint.",
            &["client_id"],
        )?;
        let introspections = counter(
            "sigil_introspections_total",
            "Introspection requests answered, by whether the token was active.",
            &["active"],
        )?;
        let sign_ins = counter(
            "sigil_sign_ins_total",
            "Username and password sign-ins on the login page, by outcome.",
            &["outcome"],
        )?;
        let sign_ins_throttled = counter(
            "sigil_sign_ins_throttled_total",
            "Sign-in attempts refused without checking the password, after too many failures for the account or from the client address.",
            &["reason"],
        )?;
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "sigil_http_request_duration_seconds",
                "HTTP request latency.",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["endpoint", "method"],
        )?;
        registry.register(Box::new(request_duration.clone()))?;
        let requests = counter(
            "sigil_http_requests_total",
            "HTTP responses, by route pattern, method and status code.",
            &["endpoint", "method", "status"],
        )?;
        let store_reachable = IntGauge::new(
            "sigil_store_reachable",
            "1 if the grant store answered this pod's last probe (a linearizable read) within \
             the probe period, else 0.",
        )?;
        registry.register(Box::new(store_reachable.clone()))?;
        Ok(Self {
            registry,
            tokens_issued,
            token_errors,
            client_auth_failures,
            client_auth_deferred,
            tokens_revoked,
            introspections,
            sign_ins,
            sign_ins_throttled,
            request_duration,
            requests,
            store_reachable,
        })
    }

    /// The registry, for collectors registered by other components (the grant store, keys).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> Result<Vec<u8>, prometheus::Error> {
        let mut buffer = Vec::with_capacity(8 * 1024);
        TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        Ok(buffer)
    }
}
