//! The authorization endpoint's decisions: sign in, consent, or respond.

use super::authorizer::Authorizer;
use super::issue::Issued;
use super::request::{self, AuthorizationRequest, AuthorizeError};
use crate::error::{ErrorCode, ProtocolError};
use crate::model::Session;
use crate::model::{Client, User};
use crate::parameters::Parameters;
use crate::time::Timestamp;
use std::sync::Arc;

/// What happens next in the browser.
#[derive(Debug, Clone)]
pub enum AuthorizeStep {
    /// Show the login page; the request continues after a successful sign-in.
    Login(AuthorizationRequest),
    /// Show the consent page for the signed-in user.
    Consent {
        /// The request.
        request: AuthorizationRequest,
        /// The client asking.
        client: Arc<Client>,
        /// The user.
        user: Arc<User>,
    },
    /// Send the response to the client.
    Respond(Issued),
}

/// The user's answer on the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentDecision {
    /// Allow; remember it if `remember`.
    Allow {
        /// Remember for next time.
        remember: bool,
    },
    /// Deny.
    Deny,
}

/// A live session and its user.
struct SignedIn {
    session: Session,
    user: Arc<User>,
}

/// Whether the browser's sign-in answers a request.
enum SignInState {
    /// It does.
    Answers(SignedIn),
    /// The user must sign in (again).
    Needed,
    /// The login page signed in someone other than the user the `id_token_hint` names.
    NotTheHintedUser,
}

impl Authorizer {
    /// `GET|POST /connect/authorize`: validates the request, then decides the next step for
    /// the browser's `session` (from its cookie, if it has one).
    pub async fn authorize(
        &self,
        params: &Parameters,
        session: Option<&Session>,
        now: Timestamp,
    ) -> Result<AuthorizeStep, AuthorizeError> {
        let mut request =
            request::validate(&self.context.catalog, &self.context.issuer, params, now)?;
        if let Some(hint) = params.get("id_token_hint") {
            match self.id_token_hint(hint) {
                Ok(hint) => request.hinted_subject = Some(hint.subject),
                Err(error) => {
                    return Err(AuthorizeError::Redirect(
                        request.error(&self.context.issuer, error),
                    ));
                }
            }
        }
        self.continue_authorize(request, session, now).await
    }

    /// Carries on with a request validated earlier (after the login page).
    pub async fn continue_authorize(
        &self,
        request: AuthorizationRequest,
        session: Option<&Session>,
        now: Timestamp,
    ) -> Result<AuthorizeStep, AuthorizeError> {
        let client = self.trusted_client(&request)?;
        let redirect_error = |error: ProtocolError| {
            AuthorizeError::Redirect(request.error(&self.context.issuer, error))
        };
        let signed_in = match self
            .sign_in_state(&request, session, now)
            .await
            .map_err(redirect_error)?
        {
            SignInState::Answers(signed_in) => signed_in,
            SignInState::Needed if !request.prompt.none => {
                return Ok(AuthorizeStep::Login(request));
            }
            SignInState::Needed | SignInState::NotTheHintedUser => {
                return Err(redirect_error(login_required(&request)));
            }
        };
        let consented = self
            .has_consent(&client, &signed_in.user, &request)
            .await
            .map_err(redirect_error)?;
        if !consented || request.prompt.consent {
            if request.prompt.none {
                return Err(redirect_error(ProtocolError::new(
                    ErrorCode::ConsentRequired,
                    "the user must consent",
                )));
            }
            return Ok(AuthorizeStep::Consent {
                request,
                client,
                user: signed_in.user,
            });
        }
        let issued = self
            .issue(&request, &client, &signed_in.session, &signed_in.user, now)
            .await
            .map_err(redirect_error)?;
        Ok(AuthorizeStep::Respond(issued))
    }

    /// The consent page's answer.
    pub async fn consent(
        &self,
        request: AuthorizationRequest,
        session: Option<&Session>,
        decision: ConsentDecision,
        now: Timestamp,
    ) -> Result<AuthorizeStep, AuthorizeError> {
        let client = self.trusted_client(&request)?;
        let redirect_error = |error: ProtocolError| {
            AuthorizeError::Redirect(request.error(&self.context.issuer, error))
        };
        // The session may have ended, or changed, while the consent page was open.
        let signed_in = match self
            .sign_in_state(&request, session, now)
            .await
            .map_err(redirect_error)?
        {
            SignInState::Answers(signed_in) => signed_in,
            SignInState::Needed => return Ok(AuthorizeStep::Login(request)),
            SignInState::NotTheHintedUser => {
                return Err(redirect_error(login_required(&request)));
            }
        };
        let ConsentDecision::Allow { remember } = decision else {
            return Err(redirect_error(ProtocolError::new(
                ErrorCode::AccessDenied,
                "the user denied the request",
            )));
        };
        if remember {
            self.consents
                .remember(
                    &signed_in.user.subject,
                    &client.client_id,
                    &request.scopes,
                    self.context.sessions.consent_lifetime,
                    now,
                )
                .await
                .map_err(|e| redirect_error(e.into()))?;
        }
        crate::audit::consent_granted(&client.client_id, &signed_in.user.subject, remember);
        let issued = self
            .issue(&request, &client, &signed_in.session, &signed_in.user, now)
            .await
            .map_err(redirect_error)?;
        Ok(AuthorizeStep::Respond(issued))
    }

    /// The client of a sealed request, which must still exist with the same redirect URI.
    fn trusted_client(
        &self,
        request: &AuthorizationRequest,
    ) -> Result<Arc<Client>, AuthorizeError> {
        self.context
            .catalog
            .client(&request.client_id)
            .filter(|client| client.has_redirect_uri(&request.redirect_uri))
            .cloned()
            .ok_or_else(|| {
                AuthorizeError::Untrusted(ProtocolError::invalid_request(
                    "the client or its redirect_uri is no longer registered",
                ))
            })
    }

    /// Whether `session` answers `request`: live, of the hinted user if there is a hint, and
    /// recent enough.
    async fn sign_in_state(
        &self,
        request: &AuthorizationRequest,
        session: Option<&Session>,
        now: Timestamp,
    ) -> Result<SignInState, ProtocolError> {
        let Some(signed_in) = self.live_session(session, now).await? else {
            return Ok(SignInState::Needed);
        };
        let session = &signed_in.session;
        let signed_in_for_this = request.login_session.as_deref() == Some(session.sid.as_str());
        if request
            .hinted_subject
            .as_ref()
            .is_some_and(|hinted| *hinted != session.subject)
        {
            // Asking again after the user signed in for this request as someone else would
            // only loop: the client hears that its user did not sign in.
            return Ok(if signed_in_for_this {
                SignInState::NotTheHintedUser
            } else {
                SignInState::Needed
            });
        }
        if !satisfies_login(request, session, now) {
            return Ok(SignInState::Needed);
        }
        Ok(SignInState::Answers(signed_in))
    }

    /// The session if it is unexpired, not logged out, and its user still exists.
    async fn live_session(
        &self,
        session: Option<&Session>,
        now: Timestamp,
    ) -> Result<Option<SignedIn>, ProtocolError> {
        let Some(session) = session else {
            return Ok(None);
        };
        if now.reached(session.expires_at) {
            return Ok(None);
        }
        if !self.sessions.is_live(session).await? {
            return Ok(None);
        }
        let user = self
            .context
            .users
            .find(&session.subject)
            .await
            .map_err(|error| ProtocolError::server_error().caused_by(error))?;
        Ok(user.map(|user| SignedIn {
            session: session.clone(),
            user,
        }))
    }

    /// True if the user does not need to be asked about these scopes.
    async fn has_consent(
        &self,
        client: &Client,
        user: &User,
        request: &AuthorizationRequest,
    ) -> Result<bool, ProtocolError> {
        if !client.sign_in.require_consent {
            return Ok(true);
        }
        let remembered = self
            .consents
            .remembered(&user.subject, &client.client_id)
            .await?;
        Ok(request
            .scopes
            .iter()
            .all(|scope| remembered.contains(scope)))
    }
}

/// Whether the session's sign-in is good enough for the request (OIDC Core §3.1.2.1).
///
/// The sign-in the login page performed for this very request always is, however long the
/// browser took since: requiring it again would send a slow browser round in circles. Any other
/// sign-in never answers `prompt=login` (nor `max_age=0`, which means the same) or
/// `prompt=select_account` (the user chooses the account on the login page), and answers
/// `max_age` only if it is certainly no older. Both clocks read whole seconds: a sign-in
/// stamped `t`, seen at `now`, is less than `now - t + 1` seconds old, so `now - t < max_age`
/// keeps it within `max_age` — the check a client makes on `auth_time` too.
fn satisfies_login(request: &AuthorizationRequest, session: &Session, now: Timestamp) -> bool {
    if request.login_session.as_deref() == Some(session.sid.as_str()) {
        return true;
    }
    if request.prompt.wants_sign_in() {
        return false;
    }
    match request.max_age {
        Some(max_age) => now.as_secs().saturating_sub(session.auth_time.as_secs()) < max_age,
        None => true,
    }
}

/// `login_required`, saying why.
fn login_required(request: &AuthorizationRequest) -> ProtocolError {
    let description = if request.hinted_subject.is_some() {
        "the user the id_token_hint names must sign in"
    } else {
        "the user must sign in"
    };
    ProtocolError::new(ErrorCode::LoginRequired, description)
}
