//! One response as the [`Browser`] saw it: [`Page`] reads its redirect, headers, cookies and
//! forms, and [`Page::callback`] the authorization response it carries to a client
//! ([`Callback`], by [`ResponseMode`]).

use super::Browser;
use super::cookies::SetCookie;
use super::html::{Form, forms};
use anyhow::anyhow;
use reqwest::Url;

/// One response, with the URL it answered (as the issuer names it).
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL requested, under the issuer when the request was.
    pub url: String,
    /// The URL the request actually went to.
    pub sent_to: String,
    /// HTTP status.
    pub status: u16,
    /// `Location`, if sent.
    pub location: Option<String>,
    /// `Content-Type`, if sent.
    pub content_type: Option<String>,
    /// Every `Set-Cookie` header, raw.
    pub set_cookies: Vec<String>,
    /// Every header (names lower-case), in order.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl Page {
    /// `relative` resolved against this page's URL.
    pub fn resolve(&self, relative: &str) -> crate::Result<String> {
        Ok(Url::parse(&self.url)?.join(relative)?.to_string())
    }

    /// The absolute target of a redirect (3xx with `Location`), if this is one.
    pub fn redirect_target(&self) -> crate::Result<Option<String>> {
        match (&self.location, (300..400).contains(&self.status)) {
            (Some(location), true) => Ok(Some(self.resolve(location)?)),
            _ => Ok(None),
        }
    }

    /// The first header `name` (lower-case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `Set-Cookie` this response sent for `name`, parsed.
    pub fn set_cookie(&self, name: &str) -> Option<SetCookie> {
        self.set_cookies
            .iter()
            .filter_map(|line| SetCookie::parse(line))
            .find(|cookie| cookie.name == name)
    }

    /// Every form in the body.
    pub fn forms(&self) -> Vec<Form> {
        forms(&self.body)
    }

    /// The first form whose action ends with `action_suffix` (such as `/account/login`).
    pub fn form(&self, action_suffix: &str) -> crate::Result<Form> {
        self.forms()
            .into_iter()
            .find(|form| {
                let action = form.action.split(['?', '#']).next().unwrap_or_default();
                action.ends_with(action_suffix)
            })
            .ok_or_else(|| {
                anyhow!(
                    "no form posting to …{action_suffix} in the {} answer to {}:\n{}",
                    self.status,
                    self.url,
                    self.body
                )
            })
    }

    /// The authorization response this page carries to a client, if it carries one: a
    /// redirect to a URL outside `browser`'s issuer, or a `form_post` page (a form whose
    /// action is outside the issuer).
    pub fn callback(&self, browser: &Browser) -> crate::Result<Option<Callback>> {
        if let Some(target) = self.redirect_target()? {
            if browser.is_issuer_url(&target) {
                return Ok(None);
            }
            let url = Url::parse(&target)?;
            let mut redirect_uri = url.clone();
            redirect_uri.set_query(None);
            redirect_uri.set_fragment(None);
            let (mode, params) = match url.fragment() {
                Some(fragment) => (ResponseMode::Fragment, parse_pairs(fragment)),
                None => (ResponseMode::Query, parse_pairs(url.query().unwrap_or(""))),
            };
            return Ok(Some(Callback {
                redirect_uri: redirect_uri.to_string(),
                location: target,
                mode,
                params,
            }));
        }
        if self.status == 200 {
            for form in self.forms() {
                let action = self.resolve(&form.action)?;
                if !browser.is_issuer_url(&action) {
                    return Ok(Some(Callback {
                        redirect_uri: action.clone(),
                        location: action,
                        mode: ResponseMode::FormPost,
                        params: form.fill::<&str, &str>(&[]),
                    }));
                }
            }
        }
        Ok(None)
    }
}

/// Where an authorization response put its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    /// The redirect's query.
    Query,
    /// The redirect's fragment.
    Fragment,
    /// Fields of an auto-submitting form.
    FormPost,
}

/// An authorization response as the client receives it.
#[derive(Debug, Clone)]
pub struct Callback {
    /// The redirect URI, without query or fragment.
    pub redirect_uri: String,
    /// The whole target URL (the redirect's `Location`, or the form's action).
    pub location: String,
    /// Where the parameters were.
    pub mode: ResponseMode,
    /// The parameters, decoded, in order.
    pub params: Vec<(String, String)>,
}

impl Callback {
    /// The first parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Parameter `name`; an error naming every parameter if it is missing.
    pub fn require(&self, name: &str) -> crate::Result<&str> {
        self.get(name)
            .ok_or_else(|| anyhow!("no `{name}` in the authorization response {self:?}"))
    }
}

fn parse_pairs(text: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn page(status: u16, location: Option<&str>, body: &str) -> Page {
        Page {
            url: "http://sigil.test/connect/authorize?x=1".into(),
            sent_to: "http://127.0.0.1:1/connect/authorize?x=1".into(),
            status,
            location: location.map(str::to_owned),
            content_type: None,
            set_cookies: vec!["s=1; HttpOnly".into(), "t=2".into()],
            headers: vec![("cache-control".into(), "no-store".into())],
            body: body.into(),
        }
    }

    #[test]
    fn redirects_resolve_against_the_page_and_only_3xx_redirect() {
        let moved = page(302, Some("/account/login?r=a%20b"), "");
        assert_eq!(
            moved.redirect_target().unwrap().as_deref(),
            Some("http://sigil.test/account/login?r=a%20b")
        );
        assert_eq!(
            page(200, Some("/elsewhere"), "").redirect_target().unwrap(),
            None
        );
        assert_eq!(page(302, None, "").redirect_target().unwrap(), None);
        assert_eq!(moved.header("cache-control"), Some("no-store"));
        assert_eq!(moved.set_cookie("t").unwrap().value, "2");
        assert!(moved.set_cookie("u").is_none());
    }

    #[test]
    fn callbacks_are_read_from_query_fragment_or_form_post() {
        let browser = Browser::new("http://sigil.test").unwrap();
        let query = page(302, Some("https://app.test/cb?code=c%2B1&state=s"), "");
        let callback = query.callback(&browser).unwrap().unwrap();
        assert_eq!(callback.mode, ResponseMode::Query);
        assert_eq!(callback.redirect_uri, "https://app.test/cb");
        assert_eq!(callback.get("code"), Some("c+1"));
        assert!(callback.require("error").is_err());

        let fragment = page(302, Some("https://app.test/cb#id_token=t&state=s"), "");
        let callback = fragment.callback(&browser).unwrap().unwrap();
        assert_eq!(callback.mode, ResponseMode::Fragment);
        assert_eq!(callback.require("id_token").unwrap(), "t");

        let form_post = page(
            200,
            None,
            r#"<form method="post" action="https://app.test/cb">
               <input type="hidden" name="code" value="c&amp;1"></form>"#,
        );
        let callback = form_post.callback(&browser).unwrap().unwrap();
        assert_eq!(callback.mode, ResponseMode::FormPost);
        assert_eq!(callback.location, "https://app.test/cb");
        assert_eq!(callback.params, vec![("code".to_owned(), "c&1".to_owned())]);
    }

    #[test]
    fn pages_that_stay_under_the_issuer_carry_no_callback() {
        let browser = Browser::new("http://sigil.test").unwrap();
        let internal = page(302, Some("/account/login"), "");
        assert!(internal.callback(&browser).unwrap().is_none());
        let login = page(200, None, r#"<form action="/account/login"></form>"#);
        assert!(login.callback(&browser).unwrap().is_none());
        let error = page(400, None, r#"<form action="https://app.test/cb"></form>"#);
        assert!(error.callback(&browser).unwrap().is_none());
        let form = login.form("/account/login").unwrap();
        assert_eq!(form.method, "get");
        assert!(login.form("/account/consent").is_err());
    }
}
