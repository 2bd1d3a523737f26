use crate::discovery::Discovery;
use crate::metrics::Metrics;
use crate::signin::{CookiePolicy, Sealer};
use async_trait::async_trait;
use sigil_core::endpoint::Services;
use std::sync::Arc;

/// Serves the current JWKS document (the key ring, which a refresher may replace).
pub trait JwksSource: Send + Sync + 'static {
    /// The JWKS as serialized JSON, or `None` while there is no key to publish (none loaded
    /// yet): an empty key set is never served, since validators would cache it.
    fn jwks_json(&self) -> Option<actix_web::web::Bytes>;

    /// How long validators may cache it (`Cache-Control: max-age`): short enough that a key
    /// published now reaches them before it signs.
    fn max_age(&self) -> std::time::Duration;
}

/// Decides `/readyz` (with [`crate::drain::Drain`]): whether this process can do its work now.
/// It says what this pod can do (its keys are loaded), never how a shared dependency is
/// doing: were a store stall to fail it, every pod would leave rotation at the same moment.
#[async_trait]
pub trait Readiness: Send + Sync + 'static {
    /// `Err(reason)` while not ready.
    async fn check(&self) -> Result<(), String>;
}

/// Everything the endpoints share; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The protocol logic: token service, authorizer, token inspector.
    pub services: Arc<Services>,
    /// Discovery documents, serialized once.
    pub discovery: Arc<Discovery>,
    /// The published keys.
    pub jwks: Arc<dyn JwksSource>,
    /// Readiness.
    pub readiness: Arc<dyn Readiness>,
    /// Set on SIGTERM: `/readyz` fails and connections close after each response.
    pub drain: crate::drain::Drain,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Seals cookies, CSRF tokens and requests in flight with the shared session secret.
    pub sealer: Arc<dyn Sealer>,
    /// Cookie settings.
    pub cookies: CookiePolicy,
}
