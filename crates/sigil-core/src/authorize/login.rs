//! The login page's question: may this user name and password start a session? Throttled
//! per account and per client address first ([`super::throttle`]).

use super::authorizer::Authorizer;
use super::throttle::Throttled;
use crate::error::{ErrorCode, ProtocolError};
use crate::handle::new_token_id;
use crate::model::Session;
use crate::model::UserStoreError;
use crate::time::Timestamp;
use std::net::IpAddr;

/// A sign-in attempt on the login page.
#[derive(Debug, Clone, Copy)]
pub struct LoginAttempt<'a> {
    /// The user name typed.
    pub username: &'a str,
    /// The password typed.
    pub password: &'a str,
    /// The client's address (see [`client_address`](super::client_address)).
    pub address: IpAddr,
}

/// How a sign-in attempt ended.
#[derive(Debug, Clone)]
pub enum SignInOutcome {
    /// The user is signed in: a session was started (and recorded in the grant store).
    SignedIn(Session),
    /// Unknown user or wrong password (the outcome does not say which); the failure was
    /// counted.
    Failed,
    /// Too many failures: this attempt came too early and the password was not checked.
    Throttled(Throttled),
}

impl Authorizer {
    /// Checks a user name and password, unless the attempt is throttled; on success starts a
    /// session (recorded in the grant store) for the server to put in a sealed cookie.
    pub async fn sign_in(
        &self,
        attempt: &LoginAttempt<'_>,
        now: Timestamp,
    ) -> Result<SignInOutcome, ProtocolError> {
        let admission = match self.admit(attempt.username, attempt.address, now).await? {
            Ok(admission) => admission,
            Err(throttled) => return Ok(SignInOutcome::Throttled(throttled)),
        };
        let user = self
            .context
            .users
            .authenticate(attempt.username, attempt.password)
            .await
            .map_err(|error| match error {
                UserStoreError::Busy(_) => ProtocolError::new(
                    ErrorCode::TemporarilyUnavailable,
                    "too many sign-ins are being checked; try again in a moment",
                ),
                error => ProtocolError::server_error().caused_by(error),
            })?;
        let Some(user) = user else {
            self.count_failure(&admission).await?;
            return Ok(SignInOutcome::Failed);
        };
        self.forget_failures(&admission).await?;
        let session = Session {
            sid: new_token_id(),
            subject: user.subject.clone(),
            auth_time: now,
            amr: vec!["pwd".to_owned()],
            expires_at: now.plus(self.context.sessions.lifetime),
        };
        self.sessions.start(&session).await?;
        Ok(SignInOutcome::SignedIn(session))
    }
}
