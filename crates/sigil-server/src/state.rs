//! [`AppState`]: everything the endpoints share, built once by the binary.

use crate::discovery::Discovery;
use crate::metrics::Metrics;
use crate::signin::CookiePolicy;
use sigil_core::endpoint::Services;
use sigil_core::published_keys::PublishedKeys;
use sigil_core::sealing::Sealer;
use std::sync::Arc;
use std::time::Duration;

/// Everything the endpoints share; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The protocol logic: token service, authorizer, token inspector.
    pub services: Arc<Services>,
    /// Discovery documents, serialized once.
    pub discovery: Arc<Discovery>,
    /// The key ring (which a refresher may replace): the JWKS it publishes, and `/readyz`,
    /// which says whether this pod has keys. Readiness says what this pod can do, never how a
    /// shared dependency is doing: were a store stall to fail it, every pod would leave
    /// rotation at the same moment.
    pub keys: Arc<dyn PublishedKeys>,
    /// How long validators may cache the JWKS (`Cache-Control: max-age`): short enough that a
    /// key published now reaches them before it signs.
    pub jwks_max_age: Duration,
    /// Set on SIGTERM: `/readyz` fails and connections close after each response.
    pub drain: crate::drain::Drain,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Seals cookies, CSRF tokens and requests in flight with the shared session secret.
    pub sealer: Arc<dyn Sealer>,
    /// Cookie settings.
    pub cookies: CookiePolicy,
}
