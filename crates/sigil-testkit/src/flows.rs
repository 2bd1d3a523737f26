//! The token flows that load sends (`sigil-load` for `make bench`, [`crate::load`] in tests):
//! client credentials, refresh-token rotation, and a whole sign-in of a new browser, with
//! the checks on their answers.
//!
//! A failed token request is a [`TokenError`] that keeps the status and body (or the transport
//! error), so that a load run can say exactly what failed.

use crate::browser::CookieJar;
use crate::browser::html::forms;
use crate::client::form;
use crate::pkce::{Pkce, random_string};
use anyhow::{Context as _, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{StatusCode, Url};
use serde_json::Value;

/// Requests one sign-in sends: authorize, login page, login post, continue, token.
pub const SIGN_IN_REQUESTS: u32 = 5;

/// Redirects within the server a sign-in may take before it is called a loop.
const MAX_HOPS: usize = 8;

/// A token request that did not end with the tokens asked for.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// No HTTP answer: the connection failed, was closed mid-request, or timed out.
    #[error("token endpoint unreachable")]
    Transport(#[source] reqwest::Error),
    /// An answer other than `200`.
    #[error("token endpoint: {status} {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of the body, on one line.
        body: String,
    },
    /// A `200` whose body is not the token response expected.
    #[error("token endpoint: {0}")]
    Answer(String),
}

/// What every worker shares: the HTTP client (one connection pool, no cookie store, no
/// redirects followed) and the settings of the flows.
pub struct Target {
    /// The client every request goes through.
    pub http: reqwest::Client,
    /// The server's base URL, without a trailing slash.
    pub base: String,
    /// `{base}/connect/token`.
    pub token_url: String,
    /// `Authorization: Basic` of the client_credentials client.
    pub service_auth: String,
    /// The scope that client asks for.
    pub service_scope: String,
    /// The client that signs users in and refreshes (`authorization_code`, `refresh_token`).
    pub web_client_id: String,
    /// `Authorization: Basic` of the web client.
    pub web_auth: String,
    /// The web client's registered redirect URI.
    pub redirect_uri: String,
    /// The scope of a sign-in (with `offline_access` for a refresh token).
    pub sign_in_scope: String,
    /// The user who signs in.
    pub username: String,
    /// Their password.
    pub password: String,
}

/// The tokens a sign-in ends with.
pub struct SignedIn {
    /// The refresh token, if one was issued.
    pub refresh_token: Option<String>,
}

impl Target {
    /// One `client_credentials` token request by the service client.
    pub async fn client_credentials(&self) -> Result<(), TokenError> {
        self.client_credentials_as(&self.service_auth, &self.service_scope)
            .await
            .map(drop)
    }

    /// One `client_credentials` token request by the client whose `Authorization` header is
    /// `authorization`; returns the access token.
    pub async fn client_credentials_as(
        &self,
        authorization: &str,
        scope: &str,
    ) -> Result<String, TokenError> {
        let body = form(&[("grant_type", "client_credentials"), ("scope", scope)]);
        let answer = self.token_request(authorization, body).await?;
        Ok(field(&answer, "access_token")?.to_owned())
    }

    /// One `refresh_token` request; returns the refresh token to use next (the new one, or
    /// the same one if the server did not rotate it).
    pub async fn refresh(&self, refresh_token: &str) -> Result<String, TokenError> {
        let body = form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ]);
        let answer = self.token_request(&self.web_auth, body).await?;
        field(&answer, "access_token")?;
        Ok(answer
            .get("refresh_token")
            .and_then(Value::as_str)
            .unwrap_or(refresh_token)
            .to_owned())
    }

    /// A whole sign-in of a new browser (empty cookie jar): the authorization request with
    /// S256 PKCE, the login form, back to the client with a code, and the code redeemed.
    pub async fn sign_in(&self) -> crate::Result<SignedIn> {
        let pkce = Pkce::s256();
        let state = random_string(16);
        let nonce = random_string(16);
        let mut authorize = Url::parse(&format!("{}/connect/authorize", self.base))?;
        authorize
            .query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.web_client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", &self.sign_in_scope)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", pkce.method);

        let mut jar = Jar::default();
        let mut page = jar
            .send(self.http.get(authorize.as_str()), &authorize)
            .await?;
        let mut logged_in = false;
        let mut hops = 0;
        let callback = loop {
            if let Some(target) = page.redirect_target()? {
                if is_under(&target, &self.redirect_uri) {
                    break target;
                }
                hops += 1;
                ensure!(
                    hops <= MAX_HOPS,
                    "more than {MAX_HOPS} redirects, the last to {target}"
                );
                let url = self.on_server(&target)?;
                page = jar.send(self.http.get(url.as_str()), &url).await?;
                continue;
            }
            ensure!(
                page.status == StatusCode::OK,
                "{} from {}: {}",
                page.status,
                page.url,
                snippet(&page.body)
            );
            let found = forms(&page.body);
            let login = found.iter().find(|f| {
                f.action
                    .split('?')
                    .next()
                    .is_some_and(|a| a.ends_with("/account/login"))
            });
            if let Some(login) = login {
                ensure!(
                    !logged_in,
                    "the login form came back after signing in (wrong password?): {}",
                    snippet(&page.body)
                );
                let request = login
                    .value("request")
                    .context("no `request` in the login form")?;
                let csrf = login.value("csrf").context("no `csrf` in the login form")?;
                let action = self.on_server(page.url.join(&login.action)?.as_str())?;
                let body = form(&[
                    ("request", request),
                    ("csrf", csrf),
                    ("username", &self.username),
                    ("password", &self.password),
                ]);
                let post = self
                    .http
                    .post(action.as_str())
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body);
                page = jar.send(post, &action).await?;
                logged_in = true;
                continue;
            }
            if found.iter().any(|f| f.action.contains("/account/consent")) {
                bail!("the consent page was shown: the client needs `require_consent: false`");
            }
            bail!("unexpected page at {}: {}", page.url, snippet(&page.body));
        };

        let callback = Url::parse(&callback)?;
        let param = |name: &str| {
            callback
                .query_pairs()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.into_owned())
        };
        if let Some(error) = param("error") {
            bail!(
                "authorization error {error}: {}",
                param("error_description").unwrap_or_default()
            );
        }
        ensure!(
            param("state").as_deref() == Some(state.as_str()),
            "state does not match"
        );
        let code = param("code").context("no code in the authorization response")?;

        let body = form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &self.redirect_uri),
            ("code_verifier", &pkce.verifier),
        ]);
        let answer = self.token_request(&self.web_auth, body).await?;
        field(&answer, "access_token")?;
        let id_token = field(&answer, "id_token")?;
        let claims = jwt_claims(id_token)?;
        ensure!(
            claims.get("nonce").and_then(Value::as_str) == Some(nonce.as_str()),
            "the id_token's nonce does not match"
        );
        Ok(SignedIn {
            refresh_token: answer
                .get("refresh_token")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    async fn token_request(&self, authorization: &str, body: String) -> Result<Value, TokenError> {
        let response = self
            .http
            .post(&self.token_url)
            .header("authorization", authorization)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(TokenError::Transport)?;
        let status = response.status();
        let text = response.text().await.map_err(TokenError::Transport)?;
        if status != StatusCode::OK {
            return Err(TokenError::Status {
                status: status.as_u16(),
                body: snippet(&text),
            });
        }
        serde_json::from_str(&text).map_err(|_| TokenError::Answer("the answer is not JSON".into()))
    }

    /// `url` with its scheme, host and port replaced by the server's (the issuer may name
    /// another host than the one measured).
    fn on_server(&self, url: &str) -> crate::Result<Url> {
        let url = Url::parse(url)?;
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path.push('?');
            path.push_str(query);
        }
        Ok(Url::parse(&format!("{}{path}", self.base))?)
    }
}

/// One browser's cookies, by name (one host, so domain and path do not matter).
#[derive(Default)]
struct Jar {
    cookies: CookieJar,
}

/// An answer to one browser request.
struct Page {
    url: Url,
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Page {
    fn redirect_target(&self) -> crate::Result<Option<String>> {
        match &self.location {
            Some(location) if self.status.is_redirection() => {
                Ok(Some(self.url.join(location)?.to_string()))
            }
            _ => Ok(None),
        }
    }
}

impl Jar {
    async fn send(&mut self, request: reqwest::RequestBuilder, url: &Url) -> crate::Result<Page> {
        let request = match self.cookies.header() {
            Some(header) => request.header("cookie", header),
            None => request,
        };
        let response = request
            .send()
            .await
            .with_context(|| format!("requesting {url}"))?;
        for line in response.headers().get_all("set-cookie") {
            if let Ok(line) = line.to_str() {
                self.cookies.store(line);
            }
        }
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await?;
        Ok(Page {
            url: url.clone(),
            status,
            location,
            body,
        })
    }
}

/// Whether `url` is `base` or under it (`base?…`, `base#…`, `base/…`).
fn is_under(url: &str, base: &str) -> bool {
    url.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['?', '#', '/']))
}

fn field<'a>(answer: &'a Value, name: &str) -> Result<&'a str, TokenError> {
    answer
        .get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| TokenError::Answer(format!("no `{name}` in the answer")))
}

/// The claims of a JWT, unverified (the tests check signatures; the load only checks that
/// this is the sign-in it started).
fn jwt_claims(token: &str) -> crate::Result<Value> {
    let payload = token
        .split('.')
        .nth(1)
        .context("the id_token is not a JWT")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .context("the id_token payload")?;
    serde_json::from_slice(&bytes).context("the id_token payload")
}

/// The start of a body for an error message, on one line.
pub fn snippet(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", flat.get(..at).unwrap_or_default()),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_are_recognised_by_prefix_only_at_a_boundary() {
        let cb = "http://bench.invalid/cb";
        assert!(is_under("http://bench.invalid/cb?code=x&state=y", cb));
        assert!(is_under("http://bench.invalid/cb", cb));
        assert!(!is_under("http://bench.invalid/cbx?code=x", cb));
        assert!(!is_under("http://127.0.0.1:1/account/login?request=r", cb));
    }

    #[test]
    fn snippets_are_short_and_on_one_line() {
        assert_eq!(
            snippet("<p>\n  Invalid   password\n</p>"),
            "<p> Invalid password </p>"
        );
        assert_eq!(snippet(&"é".repeat(300)).chars().count(), 201);
    }
}
