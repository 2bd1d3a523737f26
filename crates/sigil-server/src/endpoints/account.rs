//! The login and consent pages (`/account/login`, `/account/consent`).

use crate::discovery::EndpointPaths;
use crate::extract::Form;
use crate::signin::pending::{
    next_step, open_request, seal_request, sealed_in_query, sealed_request,
};
use crate::signin::responses::{
    BUSY, bad_request, cannot_seal, csrf_failed, expired_request, html, render, retry_later,
    server_error_page, to_continue, unavailable, with_cookie,
};
use crate::signin::{cookies, csrf, pages};
use crate::{AppState, audit};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use sigil_core::authorize::client_address::client_address;
use sigil_core::authorize::{
    AuthorizationRequest, AuthorizeStep, ConsentDecision, LoginAttempt, LoginThrottle,
    SignInOutcome,
};
use sigil_core::error::ErrorCode;
use sigil_core::model::Catalog;
use sigil_core::parameters::Parameters;
use sigil_core::time::Timestamp;
use std::net::{IpAddr, Ipv4Addr};

const LOGIN_FORM: &str = "login";
const CONSENT_FORM: &str = "consent";

/// `GET /account/login?request=…`.
pub async fn login_page(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let now = Timestamp::now();
    let Some(authorization) = sealed_request(&state, &request, now) else {
        return expired_request();
    };
    let Some(sealed) = sealed_in_query(&request) else {
        return expired_request();
    };
    login_form(
        &state,
        &request,
        &authorization,
        &sealed,
        authorization.prefilled_username(),
        None,
        now,
    )
}

/// `POST /account/login`.
pub async fn login(state: web::Data<AppState>, request: HttpRequest, form: Form) -> HttpResponse {
    let now = Timestamp::now();
    let Some(params) = checked_form(&state, &request, &form, LOGIN_FORM, now) else {
        return csrf_failed();
    };
    let Some(sealed) = params.get("request") else {
        return expired_request();
    };
    let Some(authorization) = open_request(&state, sealed, now) else {
        return expired_request();
    };
    let username = params.get("username").unwrap_or("");
    let password = params.get("password").unwrap_or("");
    let attempt = LoginAttempt {
        username,
        password,
        address: attempt_address(&request, state.services.authorizer.login_throttle()),
    };
    // The form again, the username kept, with `message` above it.
    let form_again = |message: &str| {
        login_form(
            &state,
            &request,
            &authorization,
            sealed,
            Some(username),
            Some(message),
            now,
        )
    };
    let session = match state.services.authorizer.sign_in(&attempt, now).await {
        Ok(SignInOutcome::SignedIn(session)) => session,
        Ok(SignInOutcome::Failed) => {
            audit::login_failed(username, &authorization.client_id);
            state.metrics.sign_ins.with_label_values(&["failed"]).inc();
            return form_again("Invalid username or password.");
        }
        Ok(SignInOutcome::Throttled(throttled)) => {
            let retry_after = throttled.retry_after(now);
            let reason = throttled.reason.as_str();
            audit::login_throttled(
                username,
                &authorization.client_id,
                attempt.address,
                reason,
                retry_after,
            );
            state
                .metrics
                .sign_ins_throttled
                .with_label_values(&[reason])
                .inc();
            let message = format!(
                "Too many failed sign-in attempts. Wait {}, then try again.",
                pages::wait_in_words(retry_after)
            );
            let page = form_again(&message);
            return retry_later(page, StatusCode::TOO_MANY_REQUESTS, retry_after);
        }
        // The password was not checked (the checks are saturated) or the grant store is
        // unreachable: nothing is wrong with the attempt, so the form comes back to retry.
        Err(error) if error.code == ErrorCode::TemporarilyUnavailable => {
            crate::errors::log_failure(&error, "sign-in deferred");
            return unavailable(form_again(BUSY));
        }
        Err(error) => {
            crate::errors::log_failure(&error, "sign-in");
            return server_error_page();
        }
    };
    audit::login_succeeded(&session.subject, &authorization.client_id);
    state
        .metrics
        .sign_ins
        .with_label_values(&["succeeded"])
        .inc();
    let cookie = match cookies::session_cookie(&session, state.sealer.as_ref(), state.cookies, now)
    {
        Ok(cookie) => cookie,
        Err(error) => return cannot_seal("the session cookie", &error),
    };
    // The request carries on naming the session this login started: that sign-in answers
    // its prompt=login, prompt=select_account and max_age, however long the browser takes
    // to come back.
    let continued = match seal_request(&state, &authorization.signed_in_with(&session)) {
        Ok(continued) => continued,
        Err(error) => return cannot_seal("an authorization request", &error),
    };
    let mut response = to_continue(EndpointPaths::AUTHORIZE_CONTINUE, &continued);
    if let Err(error) = response.add_cookie(&cookie) {
        tracing::error!(%error, "setting the session cookie");
        return server_error_page();
    }
    response
}

/// `GET /account/consent?request=…`: asks again what the next step is (consent may have
/// been given in another tab meanwhile) and shows the form if it is consent.
pub async fn consent_page(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let now = Timestamp::now();
    let (authorization, client, user) = match next_step(&state, &request).await {
        Some(Ok(AuthorizeStep::Consent {
            request,
            client,
            user,
        })) => (request, client, user),
        Some(other) => return render(&state, other),
        None => return expired_request(),
    };
    let Some(sealed) = sealed_in_query(&request) else {
        return expired_request();
    };
    let Some((browser, new_cookie)) = cookies::browser_id(&request, state.cookies) else {
        return csrf_failed();
    };
    let token = match csrf::issue(state.sealer.as_ref(), CONSENT_FORM, &browser, now) {
        Ok(token) => token,
        Err(error) => return cannot_seal("a CSRF token", &error),
    };
    let page = pages::consent(&pages::ConsentPage {
        request: &sealed,
        csrf: &token,
        client_name: client.display_name(),
        username: &user.username,
        scopes: describe_scopes(state.services.catalog(), &authorization),
    });
    with_cookie(html(StatusCode::OK, page), new_cookie)
}

/// `POST /account/consent`.
pub async fn consent(state: web::Data<AppState>, request: HttpRequest, form: Form) -> HttpResponse {
    let now = Timestamp::now();
    let Some(params) = checked_form(&state, &request, &form, CONSENT_FORM, now) else {
        return csrf_failed();
    };
    let Some(authorization) = params
        .get("request")
        .and_then(|sealed| open_request(&state, sealed, now))
    else {
        return expired_request();
    };
    let decision = match params.get("decision") {
        Some("allow") => ConsentDecision::Allow {
            remember: params.get("remember") == Some("on"),
        },
        Some("deny") => ConsentDecision::Deny,
        _ => return bad_request("Choose Allow or Deny."),
    };
    let session = cookies::session(&request, state.sealer.as_ref(), now);
    let step = state
        .services
        .authorizer
        .consent(authorization, session.as_ref(), decision, now)
        .await;
    render(&state, step)
}

#[allow(clippy::too_many_arguments)]
fn login_form(
    state: &AppState,
    request: &HttpRequest,
    authorization: &AuthorizationRequest,
    sealed: &str,
    username: Option<&str>,
    error: Option<&str>,
    now: Timestamp,
) -> HttpResponse {
    // The login post comes back here only with the browser cookie its CSRF check needed.
    let Some((browser, new_cookie)) = cookies::browser_id(request, state.cookies) else {
        return csrf_failed();
    };
    let token = match csrf::issue(state.sealer.as_ref(), LOGIN_FORM, &browser, now) {
        Ok(token) => token,
        Err(error) => return cannot_seal("a CSRF token", &error),
    };
    let client_name = state
        .services
        .catalog()
        .client(&authorization.client_id)
        .map_or(authorization.client_id.as_str(), |client| {
            client.display_name()
        });
    let page = pages::login(&pages::LoginPage {
        request: sealed,
        csrf: &token,
        username,
        client_name,
        error,
    });
    with_cookie(html(StatusCode::OK, page), new_cookie)
}

/// The address the attempt comes from: the connection's peer, or the client a trusted proxy
/// names (see `sessions.login_throttle.trusted_proxies`).
fn attempt_address(request: &HttpRequest, throttle: &LoginThrottle) -> IpAddr {
    let peer = request
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |peer| peer.ip());
    let forwarded_for: Vec<&str> = request
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .collect();
    client_address(peer, &forwarded_for, &throttle.trusted_proxies)
}

/// The posted form's parameters if its CSRF token checks out for `name`.
fn checked_form<'f>(
    state: &AppState,
    request: &HttpRequest,
    form: &'f Form,
    name: &str,
    now: Timestamp,
) -> Option<&'f Parameters> {
    csrf::posted_form_ok(state.sealer.as_ref(), request, name, &form.params, now)
        .then_some(&form.params)
}

/// Each requested scope with words a user understands.
fn describe_scopes(catalog: &Catalog, request: &AuthorizationRequest) -> Vec<(String, String)> {
    request
        .scopes
        .iter()
        .map(|scope| {
            let description = match scope.as_str() {
                "openid" => "Sign you in with your account".to_owned(),
                "profile" => "Your profile: name and other details".to_owned(),
                "email" => "Your email address".to_owned(),
                "address" => "Your postal address".to_owned(),
                "phone" => "Your phone number".to_owned(),
                "offline_access" => "Keep access while you are away".to_owned(),
                other => catalog
                    .scope(other)
                    .and_then(|api| api.description.clone())
                    .unwrap_or_else(|| format!("Access: {other}")),
            };
            (scope.clone(), description)
        })
        .collect()
}
