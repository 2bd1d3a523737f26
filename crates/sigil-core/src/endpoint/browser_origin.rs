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

impl Callers {
    /// `Ok` unless `origin` (the request's `Origin` header, if a browser sent one) is another
    /// origin than the issuer's and `client` did not register it.
    pub(super) fn check_browser_origin(
        &self,
        client: &Client,
        origin: Option<&str>,
    ) -> Result<(), Failure> {
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

#[cfg(test)]
mod tests {
    use crate::endpoint::{Failure, Services, TokenSuccess};
    use crate::error::ErrorCode;
    use crate::parameters::Parameters;
    use crate::testing::{NOW, SECRET, basic, services};

    /// `jwt-app` registered this origin (see `testing::services`).
    const APP_ORIGIN: &str = "https://app.test";

    fn form(body: &str) -> Parameters {
        Parameters::parse(body.as_bytes(), &[]).unwrap()
    }

    /// A client-credentials request with `id` and `secret`, from `origin`.
    async fn client_credentials(
        services: &Services,
        id: &str,
        secret: &str,
        origin: Option<&str>,
    ) -> Result<TokenSuccess, Failure> {
        let request = form("grant_type=client_credentials");
        services
            .tokens
            .token(Some(&basic(id, secret)), origin, &request, NOW)
            .await
    }

    #[tokio::test]
    async fn a_browser_origin_gets_tokens_only_for_the_clients_that_registered_it() {
        let (_, services) = services();
        let token = |origin| client_credentials(&services, "jwt-app", SECRET, origin);
        for allowed in [None, Some(APP_ORIGIN), Some("https://sigil.test")] {
            assert!(token(allowed).await.is_ok(), "{allowed:?}");
        }
        for refused in [
            "https://evil.test",
            "null",
            "https://app.test/",
            "http://app.test",
            "https://app.test:8443",
            "",
        ] {
            let failure = token(Some(refused)).await.unwrap_err();
            assert_eq!(
                failure.error.code,
                ErrorCode::UnauthorizedClient,
                "{refused}"
            );
            assert_eq!(failure.client_id.as_deref(), Some("jwt-app"));
            assert!(failure.auth_failure.is_none(), "authentication succeeded");
        }
        // Another client never registered the origin.
        let failure = client_credentials(&services, "ref-app", SECRET, Some(APP_ORIGIN))
            .await
            .unwrap_err();
        assert_eq!(failure.error.code, ErrorCode::UnauthorizedClient);
    }

    #[tokio::test]
    async fn wrong_credentials_stay_invalid_client_whatever_the_origin() {
        let (_, services) = services();
        let failure = client_credentials(&services, "jwt-app", "wrong", Some("https://evil.test"))
            .await
            .unwrap_err();
        assert_eq!(failure.error.code, ErrorCode::InvalidClient);
    }

    #[tokio::test]
    async fn a_refused_revocation_revokes_nothing() {
        let (_, services) = services();
        let credentials = basic("jwt-app", SECRET);
        let issued = client_credentials(&services, "jwt-app", SECRET, None)
            .await
            .unwrap();
        let revoke = form(&format!("token={}", issued.response.access_token));
        let failure = services
            .inspector
            .revoke(Some(&credentials), Some("https://evil.test"), &revoke, NOW)
            .await
            .unwrap_err();
        assert_eq!(failure.error.code, ErrorCode::UnauthorizedClient);
        let introspection = form(&format!("token={}", issued.response.access_token));
        let active = || {
            services
                .inspector
                .introspect(Some(&credentials), &introspection, NOW)
        };
        assert!(
            active().await.unwrap().response.active,
            "still active after the refusal"
        );
        services
            .inspector
            .revoke(Some(&credentials), Some(APP_ORIGIN), &revoke, NOW)
            .await
            .unwrap();
        assert!(
            !active().await.unwrap().response.active,
            "revoked from the app's origin"
        );
    }
}
