//! # sigil-testkit — harness for tests that run real Sigil processes
//!
//! [`SigilDev`] starts the built `sigil dev` binary (or a `sigil serve` pod) on a free
//! loopback port with its own data directory, waits until it is ready, and stops or kills it.
//! [`client`] has what a test needs to act as an OAuth client or API (Basic credentials,
//! client assertions, JWT checks against the published JWKS with an independent library).
//! [`cluster`] starts `sigil store` nodes for pods to stand in front of; [`faults`] has the TCP
//! proxies that cut links between them and balance load over them; [`proxied`] is a store
//! cluster with every Raft link behind such a proxy, for partition tests. It and
//! [`faults::isolated`] each keep their nodes in a [`node_set::NodeSet`] (addresses, data
//! directories, logs, kill): nodes that a test kills and starts again on the same data.
//!
//! Doubles of services unreachable from the test machines, speaking their real REST
//! protocols so that the real client crates can be tested against them: [`kube_api`] (the
//! Kubernetes API for Secrets: get, list, watch, create, replace) and [`keyvault`] (Azure Key
//! Vault and Entra ID over HTTPS with a test CA: the bearer challenge, certificate, key and
//! secret versions, `sign`, token endpoints).
//!
//! [`browser`] is a scripted browser for the sign-in pages: a cookie jar, redirects walked
//! one at a time (optionally spread over several pods behind one issuer), forms scraped from
//! the HTML; [`pkce`] makes the client's code verifiers. Where only a real browser will do
//! (CORS, cookie policy, WebCrypto), [`chromium`] runs headless Chromium through a Node
//! script, and [`static_site`] serves a browser app from another loopback origin than the
//! issuer.
//!
//! For deployments changed under load: [`load`] sends continuous token requests (JWT and
//! reference access tokens, refresh rotations) and accounts for every failure; [`balancer`]
//! is a round-robin TCP balancer that follows `/readyz` as a Kubernetes Service does. The
//! flows both load generators send are in [`flows`].
//!
//! Not here: anything that reaches into Sigil's crates. Tests drive the process over HTTP,
//! as users do.
//!
//! ## The helper convention
//!
//! Every process or double a test starts is a handle type with an async constructor on it:
//! `Type::start…(…) -> Result<Self>` ([`SigilDev::start`], [`SigilDev::start_in`],
//! [`SigilDev::start_pod`], [`cluster::StoreCluster::start`], [`proxied::ProxiedCluster::start`],
//! [`keyvault::KeyVaultDouble::start`], [`balancer::Balancer::start`], ...). It is ready when
//! the constructor returns, its methods act on it (`url`, `stop`, `kill`, logs), and dropping
//! it stops it. Everything fallible here returns [`Result`] with the context of what failed and
//! never panics: the `make bench` binaries use this crate too, and report instead of aborting.
//! The end-to-end tests (`tests/lib.rs`) build on this with the other half of the convention:
//! their helpers take these handles and panic with what they saw.

pub mod balancer;
pub mod browser;
pub mod chromium;
pub mod client;
pub mod cluster;
pub mod faults;
pub mod flows;
pub mod keyvault;
pub mod kube_api;
pub mod load;
pub mod node_set;
pub mod pkce;
mod process;
pub mod proxied;
pub mod static_site;

pub use process::{SigilDev, sigil_binary};

/// Result type of the harness.
pub type Result<T> = anyhow::Result<T>;
