//! The authorization request in flight: validated once by the authorization endpoint, then
//! carried sealed through the login and consent pages (`request=…`) and continued from there.
//! The browser holds it; no pod keeps it, so any pod continues what another started.

use super::sealed::{SealFailure, open_json, purpose, seal_json};
use crate::AppState;
use actix_web::HttpRequest;
use sigil_core::authorize::{AuthorizationRequest, AuthorizeError, AuthorizeStep};
use sigil_core::parameters::Parameters;
use sigil_core::time::Timestamp;
use std::time::Duration;

/// How long a sign-in may take between the authorization request and the last page.
const REQUEST_LIFETIME: Duration = Duration::from_secs(3600);

/// Seals a request for the pages.
pub(crate) fn seal_request(
    state: &AppState,
    request: &AuthorizationRequest,
) -> Result<String, SealFailure> {
    seal_json(
        state.sealer.as_ref(),
        purpose::AUTHORIZE_REQUEST,
        request,
        request.received_at.plus(REQUEST_LIFETIME),
    )
}

/// Opens a sealed authorization request.
pub(crate) fn open_request(
    state: &AppState,
    sealed: &str,
    now: Timestamp,
) -> Option<AuthorizationRequest> {
    open_json(
        state.sealer.as_ref(),
        purpose::AUTHORIZE_REQUEST,
        sealed,
        now,
    )
}

/// The sealed authorization request in the query (`request=…`), as sent.
pub(crate) fn sealed_in_query(request: &HttpRequest) -> Option<String> {
    query_value(request, "request")
}

/// The sealed authorization request in the query (`request=…`), if it opens and is fresh.
pub(crate) fn sealed_request(
    state: &AppState,
    request: &HttpRequest,
    now: Timestamp,
) -> Option<AuthorizationRequest> {
    let params = Parameters::parse(request.query_string().as_bytes(), &[]).ok()?;
    open_request(state, params.get("request")?, now)
}

/// The next step of the sealed request in the query, for the browser's session; `None` if
/// the request does not open (tampered or expired).
pub(crate) async fn next_step(
    state: &AppState,
    request: &HttpRequest,
) -> Option<Result<AuthorizeStep, AuthorizeError>> {
    let now = Timestamp::now();
    let authorization = sealed_request(state, request, now)?;
    let session = super::cookies::session(request, state.sealer.as_ref(), now);
    Some(
        state
            .services
            .authorizer
            .continue_authorize(authorization, session.as_ref(), now)
            .await,
    )
}

fn query_value(request: &HttpRequest, name: &str) -> Option<String> {
    Parameters::parse(request.query_string().as_bytes(), &[])
        .ok()?
        .get(name)
        .map(str::to_owned)
}
