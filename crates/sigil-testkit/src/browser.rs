//! A scripted browser for sign-in flows.
//!
//! [`Browser`] keeps cookies, never follows redirects on its own, and works in terms of the
//! issuer's URLs: [`Browser::follow`] walks `302`s that stay under the issuer and stops at the
//! first one that leaves it (the client's `redirect_uri`), which [`Page::callback`] parses. It
//! can send every request to a different backend than the issuer names (pods behind one
//! issuer), taking turns over them, so one sign-in can hop from pod to pod as it would behind
//! a load balancer.
//!
//! One job per file: the browser here (requests, redirects, backends), a response in [`Page`]
//! (`page.rs`), forms scraped from the HTML in [`html`], cookies in [`cookies`] (held by name
//! only, see there). PKCE, which the client rather than the browser does, is [`crate::pkce`].

pub mod cookies;
pub mod html;
mod page;

pub use cookies::{CookieJar, SetCookie};
pub use html::Form;
pub use page::{Callback, Page, ResponseMode};

use anyhow::{Context as _, bail};
use reqwest::Url;

/// Redirects followed in a row before [`Browser::follow`] gives up.
const MAX_HOPS: usize = 20;

/// One browser: a cookie jar and the backends its requests go to.
pub struct Browser {
    http: reqwest::Client,
    issuer: String,
    backends: Vec<String>,
    turn: usize,
    cookies: CookieJar,
    visits: Vec<Visit>,
}

/// One request a [`Browser`] sent, for checking where a flow went.
#[derive(Debug, Clone)]
pub struct Visit {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The URL as the issuer names it.
    pub url: String,
    /// The URL the request went to.
    pub sent_to: String,
    /// The response status.
    pub status: u16,
}

impl Visit {
    /// The path of [`url`](Self::url), without query.
    pub fn path(&self) -> String {
        Url::parse(&self.url)
            .map(|url| url.path().to_owned())
            .unwrap_or_default()
    }
}

impl Browser {
    /// A browser talking to the issuer itself (a single `sigil dev` whose issuer is its URL).
    pub fn new(issuer: &str) -> crate::Result<Self> {
        Self::across(issuer, &[issuer])
    }

    /// A browser whose requests for URLs under `issuer` go to each of `backends` in turn
    /// (`http://127.0.0.1:PORT`), one request each, round-robin.
    pub fn across(issuer: &str, backends: &[&str]) -> crate::Result<Self> {
        anyhow::ensure!(!backends.is_empty(), "a browser needs a backend");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            http,
            issuer: issuer.trim_end_matches('/').to_owned(),
            backends: backends
                .iter()
                .map(|b| b.trim_end_matches('/').to_owned())
                .collect(),
            turn: 0,
            cookies: CookieJar::default(),
            visits: Vec::new(),
        })
    }

    /// The issuer's URL for `path_and_query` (`/connect/authorize?...`).
    pub fn issuer_url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.issuer)
    }

    /// Whether `url` is under the issuer.
    pub fn is_issuer_url(&self, url: &str) -> bool {
        url.strip_prefix(&self.issuer)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']))
    }

    /// The value of cookie `name`, if the jar holds it.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name)
    }

    /// Puts a cookie in the jar (replacing one of the same name), as if a server had set it.
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.set(name, value);
    }

    /// Drops cookie `name`.
    pub fn remove_cookie(&mut self, name: &str) {
        self.cookies.remove(name);
    }

    /// Every request sent so far, in order.
    pub fn visits(&self) -> &[Visit] {
        &self.visits
    }

    /// `GET url` (one request, no redirects followed).
    pub async fn get(&mut self, url: &str) -> crate::Result<Page> {
        let wire = self.wire_url(url);
        let request = self.http.get(&wire);
        self.send("GET", url, wire, request).await
    }

    /// `POST url` with a form body (one request, no redirects followed).
    pub async fn post_form<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        url: &str,
        pairs: &[(K, V)],
    ) -> crate::Result<Page> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
            .finish();
        let wire = self.wire_url(url);
        let request = self
            .http
            .post(&wire)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send("POST", url, wire, request).await
    }

    /// Follows redirects from `page` while they stay under the issuer; returns the first
    /// response that is not such a redirect (a page, or a redirect leaving the issuer).
    pub async fn follow(&mut self, page: Page) -> crate::Result<Page> {
        let mut page = page;
        for _ in 0..MAX_HOPS {
            match page.redirect_target()? {
                Some(next) if self.is_issuer_url(&next) => page = self.get(&next).await?,
                _ => return Ok(page),
            }
        }
        bail!(
            "more than {MAX_HOPS} redirects in a row, the last to {:?}",
            page.location
        )
    }

    /// `GET url`, then [`follow`](Self::follow).
    pub async fn open(&mut self, url: &str) -> crate::Result<Page> {
        let page = self.get(url).await?;
        self.follow(page).await
    }

    /// Submits `form` of `page` with `pairs` as the body (see [`Form::fill`]), then
    /// [`follow`](Self::follow)s.
    pub async fn submit<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        page: &Page,
        form: &Form,
        pairs: &[(K, V)],
    ) -> crate::Result<Page> {
        let action = page.resolve(&form.action)?;
        let sent = if form.method.eq_ignore_ascii_case("get") {
            let mut url = Url::parse(&action)?;
            url.query_pairs_mut()
                .clear()
                .extend_pairs(pairs.iter().map(|(k, v)| (k.as_ref(), v.as_ref())));
            self.get(url.as_str()).await?
        } else {
            self.post_form(&action, pairs).await?
        };
        self.follow(sent).await
    }

    /// Where a request for `url` actually goes: URLs under the issuer are sent to the next
    /// backend in turn.
    fn wire_url(&mut self, url: &str) -> String {
        if !self.is_issuer_url(url) {
            return url.to_owned();
        }
        let rest = url.get(self.issuer.len()..).unwrap_or_default();
        let backend = self
            .backends
            .get(self.turn % self.backends.len())
            .cloned()
            .unwrap_or_default();
        self.turn += 1;
        format!("{backend}{rest}")
    }

    async fn send(
        &mut self,
        method: &'static str,
        url: &str,
        wire: String,
        request: reqwest::RequestBuilder,
    ) -> crate::Result<Page> {
        let request = match self.cookies.header() {
            Some(header) => request.header("cookie", header),
            None => request,
        };
        let response = request
            .send()
            .await
            .with_context(|| format!("requesting {wire}"))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let location = header("location");
        let content_type = header("content-type");
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect();
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        for line in &set_cookies {
            self.cookies.store(line);
        }
        let body = response.text().await.unwrap_or_default();
        self.visits.push(Visit {
            method,
            url: url.to_owned(),
            sent_to: wire.clone(),
            status,
        });
        Ok(Page {
            url: url.to_owned(),
            sent_to: wire,
            status,
            location,
            content_type,
            set_cookies,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn issuer_urls_are_rewritten_to_backends_in_turn() {
        let mut browser = Browser::across(
            "http://sigil.test",
            &["http://127.0.0.1:1", "http://127.0.0.1:2"],
        )
        .unwrap();
        assert_eq!(
            browser.wire_url("http://sigil.test/a?b"),
            "http://127.0.0.1:1/a?b"
        );
        assert_eq!(
            browser.wire_url("http://sigil.test/c"),
            "http://127.0.0.1:2/c"
        );
        assert_eq!(
            browser.wire_url("http://sigil.testing/c"),
            "http://sigil.testing/c"
        );
        assert!(!browser.is_issuer_url("http://sigil.test.evil/x"));
    }
}
