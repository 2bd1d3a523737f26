//! The end-to-end tests, one module per feature, linked into one test binary (`e2e`): each
//! test starts real `sigil` processes (built by `cargo build -p sigil`; `make test` does) and
//! drives them over HTTP on loopback, or checks what ships beside the binary (the chart, the
//! dashboards). A test is named by its module path, such as
//! `client_auth::every_method_succeeds_when_used_right`; run one module with
//! `cargo nextest run -p sigil-e2e -E 'test(/^client_auth::/)'`.
//!
//! One binary rather than one per file: each file used to be its own test executable that
//! linked the whole dependency tree again (tokio, reqwest, the test harness with its
//! Kubernetes and Azure doubles), 11 to 23 MB each with line tables only. Under nextest each
//! test still runs in its own process.
//!
//! Helpers shared by several modules are the `sigil_e2e` library (`tests/lib.rs`, see its
//! doc for the helper convention); the harness that starts processes is `sigil_testkit`.

// Serving: discovery, tokens, client authentication, bad input, CORS.
mod access_tokens;
mod bad_input;
mod client_auth;
mod cors;
mod discovery;
mod reference_tokens;

// Signing users in.
mod browser_spa;
mod signin_attacks;
mod signin_flows;
mod signin_pods;

// The command line and single processes.
mod cli;
mod grants_cli;
mod metrics;
mod restart;
mod smoke;

// Deployments: pods over a store cluster, faults, rollouts.
mod cluster_faults;
mod cluster_races;
mod readiness;
mod rolling_restart;
mod serve;
mod store_rollout;

// Signing keys: algorithms, rotation, key sources.
mod key_algorithms;
mod key_kubernetes;
mod key_rotation;
mod key_vault;

// What ships beside the binary: the Helm chart, dashboards and alerts.
mod chart;
mod monitoring;
