//! The route table, and the middleware that times every request.

use crate::AppState;
use crate::discovery::EndpointPaths;
use crate::endpoints::{self, method_not_allowed};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use std::time::Instant;

/// Registers every endpoint. Wrap the app in [`record_latency`] to time them.
pub fn routes(config: &mut web::ServiceConfig) {
    let post_only = |path: &str, route: actix_web::Route| {
        web::resource(path.to_owned())
            .route(route)
            .default_service(web::to(method_not_allowed))
    };
    config
        .service(post_only(
            EndpointPaths::TOKEN,
            web::post().to(endpoints::token::token),
        ))
        .service(post_only(
            EndpointPaths::INTROSPECTION,
            web::post().to(endpoints::introspection::introspect),
        ))
        .service(post_only(
            EndpointPaths::REVOCATION,
            web::post().to(endpoints::revocation::revoke),
        ))
        .service(
            web::resource(EndpointPaths::AUTHORIZE)
                .route(web::get().to(endpoints::authorize::authorize_get))
                .route(web::post().to(endpoints::authorize::authorize_post)),
        )
        .route(
            EndpointPaths::AUTHORIZE_CONTINUE,
            web::get().to(endpoints::authorize::authorize_continue),
        )
        .service(
            web::resource(EndpointPaths::LOGIN)
                .route(web::get().to(endpoints::account::login_page))
                .route(web::post().to(endpoints::account::login)),
        )
        .service(
            web::resource(EndpointPaths::CONSENT)
                .route(web::get().to(endpoints::account::consent_page))
                .route(web::post().to(endpoints::account::consent)),
        )
        .service(
            web::resource(EndpointPaths::USERINFO)
                .route(web::get().to(endpoints::userinfo::userinfo))
                .route(web::post().to(endpoints::userinfo::userinfo)),
        )
        .service(
            web::resource(EndpointPaths::END_SESSION)
                .route(web::get().to(endpoints::end_session::end_session_get))
                .route(web::post().to(endpoints::end_session::end_session_post)),
        )
        .route(
            EndpointPaths::OPENID_CONFIGURATION,
            web::get().to(endpoints::discovery::metadata),
        )
        .route(
            EndpointPaths::AUTHORIZATION_SERVER,
            web::get().to(endpoints::discovery::metadata),
        )
        .route(EndpointPaths::JWKS, web::get().to(endpoints::jwks::jwks))
        .route("/healthz", web::get().to(endpoints::health::healthz))
        .route("/readyz", web::get().to(endpoints::health::readyz))
        .route("/metrics", web::get().to(endpoints::metrics::metrics))
        .default_service(web::to(not_found));
}

async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(serde_json::json!({ "error": "not_found" }))
}

/// Middleware: observes each request's latency under its route pattern.
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
