//! Which browser origins may act for a client: CORS enforced, not only advertised.
//!
//! A script's form POST is a "simple" request (CORS, Fetch standard): the browser sends it
//! without a preflight and decides only afterwards whether the script may read the answer.
//! Response headers alone would therefore let a page on any origin spend a user's
//! authorization code, or revoke a token, and never see the result — the tokens are lost to
//! the app that should have had them. So the token and revocation endpoints refuse a
//! cross-origin request whose origin the authenticated client did not register in
//! `allowed_cors_origins`, before anything is consumed. Clients that are not browsers send no
//! `Origin` and are not affected; pages of the issuer's own origin are not cross-origin.

use super::caller::Callers;
use crate::error::{ErrorCode, Failure, ProtocolError};
use crate::model::{Client, WebOrigin};
use crate::parameters::Parameters;
use crate::time::Timestamp;
use std::sync::Arc;

impl Callers {
    /// Authenticates the client of a token or revocation request, then checks that the
    /// browser origin it came from, if any, may act for that client.
    pub(super) async fn authenticate_client_from(
        &self,
        authorization: Option<&str>,
        origin: Option<&str>,
        params: &Parameters,
        now: Timestamp,
    ) -> Result<Arc<Client>, Failure> {
        let client = self.authenticate_client(authorization, params, now).await?;
        self.check_browser_origin(&client, origin)?;
        Ok(client)
    }

    /// `Ok` unless `origin` (the request's `Origin` header, if a browser sent one) is another
    /// origin than the issuer's and `client` did not register it.
    fn check_browser_origin(&self, client: &Client, origin: Option<&str>) -> Result<(), Failure> {
        let Some(origin) = origin else {
            return Ok(());
        };
        if client.allows_cors_origin(origin) || self.is_own_origin(origin) {
            return Ok(());
        }
        Err(Failure::new(
            ProtocolError::new(
                ErrorCode::UnauthorizedClient,
                "the request's Origin is not in this client's allowed_cors_origins",
            ),
            Some(&client.client_id),
        ))
    }

    /// True if `origin` is the issuer's own (a page the server itself serves).
    fn is_own_origin(&self, origin: &str) -> bool {
        WebOrigin::of_url(&self.context.issuer).is_some_and(|own| own.as_str() == origin)
    }
}
