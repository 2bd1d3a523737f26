//! The route tables, and the middleware that times every request.
//!
//! Every resource answers a method it does not serve with 405 and an `Allow` header (RFC
//! 9110 §15.5.6); read-only documents answer HEAD as they answer GET. Metrics and health can
//! move to an operations listener of their own ([`public_routes`] and [`ops_routes`]), since
//! metrics name clients and only the protocol belongs behind an Ingress.

use crate::AppState;
use crate::discovery::EndpointPaths;
use crate::endpoints::{self, method_not_allowed};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{FromRequest, Handler, HttpResponse, Resource, Responder, web};
use std::time::Instant;

/// Every endpoint on one listener: the protocol, health and metrics. Wrap the app in
/// [`record_latency`] to time them.
pub fn routes(config: &mut web::ServiceConfig) {
    protocol(config);
    health(config);
    metrics(config);
    config.default_service(web::to(not_found));
}

/// The public listener when metrics and health have a listener of their own: the protocol,
/// and `/healthz` and `/readyz` still, for load balancers that can only probe the port they
/// send traffic to. Not `/metrics`: its series name clients.
pub fn public_routes(config: &mut web::ServiceConfig) {
    protocol(config);
    health(config);
    config.default_service(web::to(not_found));
}

/// The operations listener: `/metrics`, `/healthz` and `/readyz`, nothing else.
pub fn ops_routes(config: &mut web::ServiceConfig) {
    health(config);
    metrics(config);
    config.default_service(web::to(not_found));
}

/// A resource whose other methods get 405 with `Allow: allow`.
fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path.to_owned())
        .default_service(web::to(move || async move { method_not_allowed(allow) }))
}

/// A read-only document: GET, and HEAD (the same answer without its body).
fn get_only<F, Args>(path: &str, handler: F) -> Resource
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    resource(path, "GET, HEAD")
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
}

fn protocol(config: &mut web::ServiceConfig) {
    config
        .service(
            resource(EndpointPaths::TOKEN, "POST").route(web::post().to(endpoints::token::token)),
        )
        .service(
            resource(EndpointPaths::INTROSPECTION, "POST")
                .route(web::post().to(endpoints::introspection::introspect)),
        )
        .service(
            resource(EndpointPaths::REVOCATION, "POST")
                .route(web::post().to(endpoints::revocation::revoke)),
        )
        .service(
            resource(EndpointPaths::AUTHORIZE, "GET, POST")
                .route(web::get().to(endpoints::authorize::authorize_get))
                .route(web::post().to(endpoints::authorize::authorize_post)),
        )
        .service(
            resource(EndpointPaths::AUTHORIZE_CONTINUE, "GET")
                .route(web::get().to(endpoints::authorize::authorize_continue)),
        )
        .service(
            resource(EndpointPaths::LOGIN, "GET, POST")
                .route(web::get().to(endpoints::account::login_page))
                .route(web::post().to(endpoints::account::login)),
        )
        .service(
            resource(EndpointPaths::CONSENT, "GET, POST")
                .route(web::get().to(endpoints::account::consent_page))
                .route(web::post().to(endpoints::account::consent)),
        )
        .service(
            resource(EndpointPaths::USERINFO, "GET, POST")
                .route(web::get().to(endpoints::userinfo::userinfo))
                .route(web::post().to(endpoints::userinfo::userinfo)),
        )
        .service(
            resource(EndpointPaths::END_SESSION, "GET, POST")
                .route(web::get().to(endpoints::end_session::end_session_get))
                .route(web::post().to(endpoints::end_session::end_session_post)),
        )
        .service(get_only(
            EndpointPaths::OPENID_CONFIGURATION,
            endpoints::discovery::metadata,
        ))
        .service(get_only(
            EndpointPaths::AUTHORIZATION_SERVER,
            endpoints::discovery::metadata,
        ))
        .service(get_only(EndpointPaths::JWKS, endpoints::jwks::jwks));
}

fn health(config: &mut web::ServiceConfig) {
    config
        .service(get_only("/healthz", endpoints::health::healthz))
        .service(get_only("/readyz", endpoints::health::readyz));
}

fn metrics(config: &mut web::ServiceConfig) {
    config.service(get_only("/metrics", endpoints::metrics::metrics));
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({ "error": "not_found" }))
}

/// Middleware: observes each request's latency under its route pattern, and counts its
/// response by status.
pub async fn record_latency(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = request
        .app_data::<web::Data<AppState>>()
        .map(|state| state.metrics.clone());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.call(request).await?;
    if let Some(metrics) = metrics {
        let pattern = response.request().match_pattern();
        let endpoint = pattern.as_deref().unwrap_or("unmatched");
        metrics
            .request_duration
            .with_label_values(&[endpoint, method])
            .observe(started.elapsed().as_secs_f64());
        metrics
            .requests
            .with_label_values(&[endpoint, method, response.status().as_str()])
            .inc();
    }
    Ok(response)
}

/// Methods as a bounded label set.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
