//! Validating an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1).
//!
//! The order matters: until the client and its redirect URI are known, an error is shown to
//! the user ([`AuthorizeError::Untrusted`]) — redirecting to an unchecked URI would make the
//! server an open redirector. After that, errors go back to the client.

use super::redirect::{ClientRedirect, ResponseMode};
use crate::access;
use crate::error::{ErrorCode, ProtocolError};
use crate::model::Session;
use crate::model::{Catalog, Client, OPENID, ResponseType};
use crate::parameters::Parameters;
use crate::pkce::{ChallengeMethod, CodeChallenge};
use crate::scope::ScopeSet;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The longest `state`, `nonce` or `login_hint` accepted; they travel in the sealed request.
const MAX_ECHOED_LENGTH: usize = 2048;

/// Why an authorization request was refused.
#[derive(Debug, Clone)]
pub enum AuthorizeError {
    /// The client or its redirect URI could not be established: tell the user, never redirect.
    Untrusted(ProtocolError),
    /// Tell the client, at its (checked) redirect URI.
    Redirect(ClientRedirect),
}

/// What `prompt` asked for (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// `none`: no page may be shown.
    pub none: bool,
    /// `login`: sign in again even with a session.
    pub login: bool,
    /// `consent`: ask for consent even if it was remembered.
    pub consent: bool,
    /// `select_account`: let the user choose the account. A browser holds one session, so
    /// the user chooses on the login page, which is shown even with a session and prefilled
    /// with no name.
    #[serde(default)]
    pub select_account: bool,
}

impl Prompt {
    /// True if only a sign-in on the login page for this request answers it (`login` or
    /// `select_account`), never an earlier session.
    pub fn wants_sign_in(&self) -> bool {
        self.login || self.select_account
    }
}

/// A validated authorization request. It travels sealed through the login and consent pages,
/// so pods need no shared memory to carry on where another pod left off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// The client.
    pub client_id: String,
    /// Exactly one of the client's registered redirect URIs.
    pub redirect_uri: String,
    /// What the client asked to receive.
    pub response_type: ResponseType,
    /// How the response is delivered.
    pub response_mode: ResponseMode,
    /// Requested scopes, identity and API, in request order.
    pub scopes: ScopeSet,
    /// The audiences the scopes resolve to (RFC 8707 `resource`, or the APIs offering them).
    pub audiences: Vec<String>,
    /// Echoed back unchanged.
    pub state: Option<String>,
    /// Echoed in the id_token.
    pub nonce: Option<String>,
    /// `prompt`.
    pub prompt: Prompt,
    /// `max_age`: the longest time since sign-in the client accepts, in seconds (`0` is
    /// `prompt=login`).
    pub max_age: Option<u64>,
    /// `login_hint`: prefilled user name.
    pub login_hint: Option<String>,
    /// The PKCE challenge.
    pub code_challenge: Option<CodeChallenge>,
    /// When the request arrived (the sealed request expires an hour later).
    pub received_at: Timestamp,
    /// The user a verified `id_token_hint` names: only their session may answer.
    #[serde(default)]
    pub hinted_subject: Option<String>,
    /// The session started by the login page for this very request. That sign-in answers
    /// the request's `prompt=login` and `max_age` however long the browser then takes (OIDC
    /// Core §3.1.2.1: the authentication performed for this request).
    #[serde(default)]
    pub login_session: Option<String>,
}

impl AuthorizationRequest {
    /// The request as it carries on after the login page signed the user in for it.
    pub fn signed_in_with(self, session: &Session) -> Self {
        Self {
            login_session: Some(session.sid.clone()),
            ..self
        }
    }

    /// The user name the login page is prefilled with: the `login_hint`, unless the user is to
    /// choose the account (`prompt=select_account`).
    pub fn prefilled_username(&self) -> Option<&str> {
        if self.prompt.select_account {
            return None;
        }
        self.login_hint.as_deref()
    }

    /// True if the client asked for `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// An error for the client, delivered like a response would be. The redirect keeps
    /// `error` (and so any internal failure behind it) for the HTTP layer to log.
    pub fn error(&self, issuer: &str, error: ProtocolError) -> ClientRedirect {
        ClientRedirect::error(
            &self.redirect_uri,
            self.response_mode,
            issuer,
            &error,
            self.state.as_deref(),
        )
    }
}

/// Validates an authorization request.
pub fn validate(
    catalog: &Catalog,
    issuer: &str,
    params: &Parameters,
    now: Timestamp,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let untrusted =
        |message: &'static str| AuthorizeError::Untrusted(ProtocolError::invalid_request(message));
    let client_id = params
        .get("client_id")
        .ok_or_else(|| untrusted("the request has no client_id"))?;
    let client = catalog
        .client(client_id)
        .ok_or_else(|| untrusted("the client is unknown"))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| untrusted("the request has no redirect_uri"))?;
    if !client.has_redirect_uri(redirect_uri) {
        return Err(untrusted(
            "the redirect_uri is not registered for this client (it must match exactly)",
        ));
    }

    // From here on the redirect URI is trusted: errors go back to the client.
    let state = params.get("state");
    let requested_mode = params.get("response_mode").map(ResponseMode::parse);
    let fail = |error: ProtocolError, mode: ResponseMode| {
        AuthorizeError::Redirect(ClientRedirect::error(
            redirect_uri,
            mode,
            issuer,
            &error,
            state,
        ))
    };
    let early_mode = match requested_mode {
        Some(Some(mode)) => mode,
        _ => ResponseMode::Query,
    };
    let response_type = parse_response_type(client, params).map_err(|e| fail(e, early_mode))?;
    let default_mode = if response_type == ResponseType::Code {
        ResponseMode::Query
    } else {
        ResponseMode::Fragment
    };
    let response_mode = match requested_mode {
        None => default_mode,
        Some(None) => {
            return Err(fail(
                ProtocolError::invalid_request("unknown response_mode"),
                default_mode,
            ));
        }
        Some(Some(ResponseMode::Query)) if response_type != ResponseType::Code => {
            // Tokens in a query string end up in logs and Referer headers (OAuth 2.0 Multiple
            // Response Type Encoding Practices §2.1).
            return Err(fail(
                ProtocolError::invalid_request("response_mode=query cannot carry tokens"),
                default_mode,
            ));
        }
        Some(Some(mode)) => mode,
    };
    let fail = |error: ProtocolError| fail(error, response_mode);

    for (name, code) in [
        ("request", ErrorCode::RequestNotSupported),
        ("request_uri", ErrorCode::RequestUriNotSupported),
        ("registration", ErrorCode::RegistrationNotSupported),
    ] {
        if params.get(name).is_some() {
            return Err(fail(ProtocolError::new(
                code,
                format!("the `{name}` parameter is not supported"),
            )));
        }
    }
    for name in ["state", "nonce", "login_hint"] {
        if params
            .get(name)
            .is_some_and(|v| v.len() > MAX_ECHOED_LENGTH)
        {
            return Err(fail(ProtocolError::invalid_request(format!(
                "`{name}` is longer than {MAX_ECHOED_LENGTH} characters"
            ))));
        }
    }

    let scopes = match params.get("scope") {
        Some(_) => access::requested_scopes(client, params.get("scope")).map_err(fail)?,
        None => {
            return Err(fail(ProtocolError::invalid_scope(
                "the request has no scope",
            )));
        }
    }
    .scopes;
    let openid = scopes.contains(OPENID);
    if response_type.has_id_token() && !openid {
        return Err(fail(ProtocolError::invalid_scope(
            "an id_token needs the openid scope",
        )));
    }
    let granted = access::resolve_requested(catalog, client, scopes, params).map_err(fail)?;

    let nonce = params.get("nonce");
    if response_type.has_id_token() && nonce.is_none() {
        return Err(fail(ProtocolError::invalid_request(
            "a nonce is required when the id_token is returned from the authorization endpoint",
        )));
    }
    let prompt = parse_prompt(params.get("prompt")).map_err(fail)?;
    let max_age = match params.get("max_age") {
        None => None,
        Some(value) => Some(value.parse::<u64>().map_err(|_| {
            fail(ProtocolError::invalid_request(
                "max_age must be a non-negative integer",
            ))
        })?),
    };
    let code_challenge = code_challenge(client, response_type, params).map_err(fail)?;

    Ok(AuthorizationRequest {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        response_type,
        response_mode,
        scopes: granted.scopes,
        audiences: granted.audiences,
        state: state.map(str::to_owned),
        nonce: nonce.map(str::to_owned),
        prompt,
        max_age,
        login_hint: params.get("login_hint").map(str::to_owned),
        code_challenge,
        received_at: now,
        hinted_subject: None,
        login_session: None,
    })
}

fn parse_response_type(
    client: &Arc<Client>,
    params: &Parameters,
) -> Result<ResponseType, ProtocolError> {
    let value = params
        .get("response_type")
        .ok_or_else(|| ProtocolError::invalid_request("the request has no response_type"))?;
    let response_type = ResponseType::parse(value).ok_or_else(|| {
        ProtocolError::new(
            ErrorCode::UnsupportedResponseType,
            "this response_type is not supported",
        )
    })?;
    if !client.sign_in.response_types.contains(&response_type) {
        return Err(ProtocolError::new(
            ErrorCode::UnauthorizedClient,
            format!(
                "the client may not use response_type `{}`",
                response_type.as_str()
            ),
        ));
    }
    Ok(response_type)
}

fn parse_prompt(value: Option<&str>) -> Result<Prompt, ProtocolError> {
    let mut prompt = Prompt::default();
    for word in value.unwrap_or("").split(' ').filter(|w| !w.is_empty()) {
        match word {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "select_account" => prompt.select_account = true,
            "consent" => prompt.consent = true,
            _ => return Err(ProtocolError::invalid_request("unknown prompt value")),
        }
    }
    if prompt.none && (prompt.wants_sign_in() || prompt.consent) {
        return Err(ProtocolError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(prompt)
}

/// RFC 7636 and RFC 9700 §2.1.1: S256 unless the client is allowed `plain`; required for
/// public clients and, by default, for everyone.
fn code_challenge(
    client: &Client,
    response_type: ResponseType,
    params: &Parameters,
) -> Result<Option<CodeChallenge>, ProtocolError> {
    let Some(challenge) = params.get("code_challenge") else {
        if response_type.has_code() && (client.sign_in.require_pkce || client.is_public()) {
            return Err(ProtocolError::invalid_request(
                "this client must send a PKCE code_challenge (S256)",
            ));
        }
        if params.get("code_challenge_method").is_some() {
            return Err(ProtocolError::invalid_request(
                "code_challenge_method without code_challenge",
            ));
        }
        return Ok(None);
    };
    let method = ChallengeMethod::parse(params.get("code_challenge_method")).ok_or_else(|| {
        ProtocolError::invalid_request("code_challenge_method must be S256 or plain")
    })?;
    if method == ChallengeMethod::Plain && !client.sign_in.allow_plain_pkce {
        return Err(ProtocolError::invalid_request(
            "this client must use code_challenge_method=S256",
        ));
    }
    let well_formed = match method {
        ChallengeMethod::S256 => {
            challenge.len() == 43
                && challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }
        ChallengeMethod::Plain => crate::pkce::is_valid_verifier(challenge),
    };
    if !well_formed {
        return Err(ProtocolError::invalid_request("malformed code_challenge"));
    }
    Ok(Some(CodeChallenge {
        challenge: challenge.to_owned(),
        method,
    }))
}
