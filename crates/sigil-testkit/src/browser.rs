//! A scripted browser for sign-in flows.
//!
//! [`Browser`] keeps cookies, never follows redirects on its own, and works in terms of the
//! issuer's URLs: [`Browser::follow`] walks `302`s that stay under the issuer and stops at the
//! first one that leaves it (the client's `redirect_uri`), which [`Page::callback`] parses. It
//! can send every request to a different backend than the issuer names (pods behind one
//! issuer), taking turns over them, so one sign-in can hop from pod to pod as it would behind
//! a load balancer. Forms are scraped from the HTML with [`Page::form`]; [`Pkce`] makes code
//! verifiers and challenges.
//!
//! Cookies are held by name only, whatever their host, port or path: every backend of a test
//! is one loopback host, where browsers ignore the port too. A cookie is dropped when a
//! response expires it (`Max-Age` ≤ 0 or `Expires` in the past). `Secure` is not enforced.

use anyhow::{Context as _, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Url;

/// Redirects followed in a row before [`Browser::follow`] gives up.
const MAX_HOPS: usize = 20;

/// One browser: a cookie jar and the backends its requests go to.
pub struct Browser {
    http: reqwest::Client,
    issuer: String,
    backends: Vec<String>,
    turn: usize,
    cookies: Vec<(String, String)>,
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
            cookies: Vec::new(),
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
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Puts a cookie in the jar (replacing one of the same name), as if a server had set it.
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.retain(|(n, _)| n != name);
        self.cookies.push((name.to_owned(), value.to_owned()));
    }

    /// Drops cookie `name`.
    pub fn remove_cookie(&mut self, name: &str) {
        self.cookies.retain(|(n, _)| n != name);
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
        let request = match self.cookie_header() {
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
            self.store_cookie(line);
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

    fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn store_cookie(&mut self, line: &str) {
        let Some(cookie) = SetCookie::parse(line) else {
            return;
        };
        self.cookies.retain(|(n, _)| *n != cookie.name);
        if !cookie.expired() {
            self.cookies.push((cookie.name, cookie.value));
        }
    }
}

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

/// A `Set-Cookie` header, parsed.
#[derive(Debug, Clone)]
pub struct SetCookie {
    /// Cookie name.
    pub name: String,
    /// Cookie value.
    pub value: String,
    /// Attributes, names lower-cased (`httponly`, `samesite`, `path`, `max-age`, ...), values as sent.
    pub attributes: Vec<(String, Option<String>)>,
}

impl SetCookie {
    /// Parses `name=value; Attr; Attr=Value`.
    pub fn parse(line: &str) -> Option<Self> {
        let mut parts = line.split(';');
        let (name, value) = parts.next()?.split_once('=')?;
        let attributes = parts
            .map(|part| match part.split_once('=') {
                Some((n, v)) => (n.trim().to_ascii_lowercase(), Some(v.trim().to_owned())),
                None => (part.trim().to_ascii_lowercase(), None),
            })
            .collect();
        Some(Self {
            name: name.trim().to_owned(),
            value: value.trim().to_owned(),
            attributes,
        })
    }

    /// Attribute `name` (lower-case): `Some(None)` for a flag such as `httponly`.
    pub fn attribute(&self, name: &str) -> Option<Option<&str>> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref())
    }

    /// Whether the cookie is deleted by this header (`Max-Age` ≤ 0 or `Expires` in the past).
    pub fn expired(&self) -> bool {
        if let Some(Some(max_age)) = self.attribute("max-age") {
            return max_age.parse::<i64>().is_ok_and(|age| age <= 0);
        }
        if let Some(Some(expires)) = self.attribute("expires") {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            return http_date(expires).is_some_and(|at| at <= now);
        }
        false
    }
}

/// Seconds since the epoch of an IMF-fixdate (`Thu, 01 Jan 1970 00:00:00 GMT`).
fn http_date(text: &str) -> Option<u64> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, ..] = fields.as_slice() else {
        return None;
    };
    let month = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| month.eq_ignore_ascii_case(m))? as i64
        + 1;
    let day: i64 = day.trim_end_matches('-').parse().ok()?;
    let year: i64 = year.parse().ok()?;
    let mut clock = time.split(':').map(|n| n.parse::<i64>().ok());
    let (h, m, s) = (clock.next()??, clock.next()??, clock.next()??);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + m * 60 + s).ok()
}

/// An HTML form, as scraped.
#[derive(Debug, Clone)]
pub struct Form {
    /// The `action` attribute, unescaped (may be relative).
    pub action: String,
    /// The `method` attribute (`get` when absent).
    pub method: String,
    /// Its `<input>` and `<button>` elements that have a name, in document order.
    pub inputs: Vec<Input>,
}

/// An `<input>` or `<button>` with a name.
#[derive(Debug, Clone)]
pub struct Input {
    /// `input` or `button`.
    pub tag: String,
    /// The `type`, lower-cased (`text` for an input without one, `submit` for a button).
    pub kind: String,
    /// The `name`.
    pub name: String,
    /// The `value`, unescaped (empty when absent).
    pub value: String,
    /// Whether `checked` is present.
    pub checked: bool,
}

impl Form {
    /// The value of the first non-button field `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.inputs
            .iter()
            .find(|input| input.name == name && !is_button(input))
            .map(|input| input.value.as_str())
    }

    /// The field or button `name`, if the form has one.
    pub fn input(&self, name: &str) -> Option<&Input> {
        self.inputs.iter().find(|input| input.name == name)
    }

    /// The buttons named `name` (their values).
    pub fn buttons(&self, name: &str) -> Vec<&str> {
        self.inputs
            .iter()
            .filter(|input| input.name == name && is_button(input))
            .map(|input| input.value.as_str())
            .collect()
    }

    /// What a browser would submit, with `fill` applied: every field with its value (checked
    /// checkboxes and radios only, no buttons), then each pair of `fill` replacing the field
    /// of that name or added after them (a button press, a checkbox ticked).
    pub fn fill<K: AsRef<str>, V: AsRef<str>>(&self, fill: &[(K, V)]) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .inputs
            .iter()
            .filter(|input| !is_button(input))
            .filter(|input| !matches!(input.kind.as_str(), "checkbox" | "radio") || input.checked)
            .map(|input| (input.name.clone(), input.value.clone()))
            .collect();
        for (name, value) in fill {
            let (name, value) = (name.as_ref(), value.as_ref());
            match pairs.iter_mut().find(|(n, _)| n == name) {
                Some(pair) => pair.1 = value.to_owned(),
                None => pairs.push((name.to_owned(), value.to_owned())),
            }
        }
        pairs
    }
}

fn is_button(input: &Input) -> bool {
    matches!(input.kind.as_str(), "submit" | "button" | "image" | "reset")
}

/// Every `<form>` in `html` with its inputs and buttons. Simple scanning, not a parser: it
/// expects well-formed tags, which is what Sigil writes.
pub fn forms(html: &str) -> Vec<Form> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = find_tag(&lower, "form", at) {
        let Some((attributes, body_start)) = tag_attributes(html, start + "<form".len()) else {
            break;
        };
        let end = lower
            .get(body_start..)
            .and_then(|rest| rest.find("</form"))
            .map_or(html.len(), |offset| body_start + offset);
        let body = html.get(body_start..end).unwrap_or_default();
        found.push(Form {
            action: attribute(&attributes, "action").unwrap_or_default(),
            method: attribute(&attributes, "method").unwrap_or_else(|| "get".to_owned()),
            inputs: inputs(body),
        });
        at = end;
    }
    found
}

fn inputs(body: &str) -> Vec<Input> {
    let lower = body.to_ascii_lowercase();
    let mut found: Vec<(usize, Input)> = Vec::new();
    for tag in ["input", "button"] {
        let mut at = 0;
        while let Some(start) = find_tag(&lower, tag, at) {
            let Some((attributes, after)) = tag_attributes(body, start + 1 + tag.len()) else {
                break;
            };
            at = after;
            let Some(name) = attribute(&attributes, "name") else {
                continue;
            };
            let default_kind = if tag == "button" { "submit" } else { "text" };
            found.push((
                start,
                Input {
                    tag: tag.to_owned(),
                    kind: attribute(&attributes, "type")
                        .map_or_else(|| default_kind.to_owned(), |k| k.to_ascii_lowercase()),
                    name,
                    value: attribute(&attributes, "value").unwrap_or_default(),
                    checked: attributes.iter().any(|(n, _)| n == "checked"),
                },
            ));
        }
    }
    found.sort_by_key(|(start, _)| *start);
    found.into_iter().map(|(_, input)| input).collect()
}

/// The offset of the next `<tag` (followed by whitespace, `>` or `/`) in lower-cased `html`.
fn find_tag(lower: &str, tag: &str, from: usize) -> Option<usize> {
    let needle = format!("<{tag}");
    let mut at = from;
    loop {
        let start = at + lower.get(at..)?.find(&needle)?;
        let next = lower.as_bytes().get(start + needle.len()).copied();
        if matches!(next, Some(b' ' | b'\t' | b'\n' | b'\r' | b'>' | b'/')) {
            return Some(start);
        }
        at = start + needle.len();
    }
}

/// A tag's attributes: lower-cased names, unescaped values (`None` for a bare flag).
type Attributes = Vec<(String, Option<String>)>;

/// Parses attributes from `at` (just past the tag name) to the closing `>`; returns them
/// (names lower-cased, values unescaped) and the offset after `>`.
fn tag_attributes(html: &str, at: usize) -> Option<(Attributes, usize)> {
    let bytes = html.as_bytes();
    let mut i = at;
    let mut attributes = Vec::new();
    loop {
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            i += 1;
        }
        if *bytes.get(i)? == b'>' {
            return Some((attributes, i + 1));
        }
        let name_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        let name = html.get(name_start..i)?.to_ascii_lowercase();
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            attributes.push((name, None));
            continue;
        }
        i += 1;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let value = match bytes.get(i)? {
            quote @ (b'"' | b'\'') => {
                let close = i + 1 + html.get(i + 1..)?.find(*quote as char)?;
                let value = html.get(i + 1..close)?;
                i = close + 1;
                value
            }
            _ => {
                let start = i;
                while bytes
                    .get(i)
                    .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>')
                {
                    i += 1;
                }
                html.get(start..i)?
            }
        };
        attributes.push((name, Some(unescape(value))));
    }
}

fn attribute(attributes: &Attributes, name: &str) -> Option<String> {
    attributes
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone().unwrap_or_default())
}

/// Decodes HTML character references: the named ones Sigil writes (`&amp; &quot; &lt; &gt;
/// &apos;`) and numeric ones (`&#39;`, `&#x27;`). Anything else is left as it is.
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let after = rest.get(at + 1..).unwrap_or_default();
        let decoded = after.find(';').and_then(|end| {
            let entity = after.get(..end)?;
            let c = match entity {
                "amp" => '&',
                "quot" => '"',
                "lt" => '<',
                "gt" => '>',
                "apos" => '\'',
                _ => {
                    let number = entity.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = after.get(end + 1..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn parse_pairs(text: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A PKCE code verifier and its challenge (RFC 7636).
#[derive(Debug, Clone)]
pub struct Pkce {
    /// The `code_verifier` (43 characters of base64url from 32 random bytes).
    pub verifier: String,
    /// The `code_challenge`.
    pub challenge: String,
    /// The `code_challenge_method`: `S256` or `plain`.
    pub method: &'static str,
}

impl Pkce {
    /// A random verifier with its `S256` challenge.
    pub fn s256() -> Self {
        let verifier = random_string(32);
        Self {
            challenge: s256_challenge(&verifier),
            verifier,
            method: "S256",
        }
    }

    /// A random verifier sent as its own (`plain`) challenge.
    pub fn plain() -> Self {
        let verifier = random_string(32);
        Self {
            challenge: verifier.clone(),
            verifier,
            method: "plain",
        }
    }
}

/// `BASE64URL(SHA256(verifier))`.
pub fn s256_challenge(verifier: &str) -> String {
    use sha2::Digest as _;
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// The `at_hash` / `c_hash` of `value` for the SHA-256 algorithms (RS256, ES256, PS256):
/// base64url of the left half of its SHA-256 (OIDC Core §3.1.3.6, §3.3.2.11).
pub fn half_sha256(value: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(value.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.get(..16).unwrap_or_default())
}

/// `bytes` random bytes, base64url without padding.
pub fn random_string(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    let _ = aws_lc_rs::rand::fill(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn scrapes_forms_with_escaped_values() {
        let html = r#"<html><body>
            <FORM method="post" action="/account/login?x=1&amp;y=2">
              <input type="hidden" name="request" value="a&amp;b&quot;c&lt;d&gt;e&#39;f">
              <input type=hidden name=csrf value=tok-1 />
              <label>User <input name="username" type="text"></label>
              <input type="checkbox" name="remember" value="on">
              <input type="checkbox" name="ticked" value="yes" checked>
              <button type="submit" name="decision" value="allow">Allow</button>
              <button name="decision" value="deny">Deny</button>
            </FORM>
            <form action='https://app.test/cb'><input type='hidden' name='code' value='c'></form>
        </body></html>"#;
        let found = forms(html);
        assert_eq!(found.len(), 2);
        let login = &found[0];
        assert_eq!(login.action, "/account/login?x=1&y=2");
        assert_eq!(login.method, "post");
        assert_eq!(login.value("request"), Some("a&b\"c<d>e'f"));
        assert_eq!(login.value("csrf"), Some("tok-1"));
        assert_eq!(login.buttons("decision"), vec!["allow", "deny"]);
        let submitted = login.fill(&[("username", "alice"), ("decision", "allow")]);
        assert_eq!(
            submitted,
            vec![
                ("request".to_owned(), "a&b\"c<d>e'f".to_owned()),
                ("csrf".to_owned(), "tok-1".to_owned()),
                ("username".to_owned(), "alice".to_owned()),
                ("ticked".to_owned(), "yes".to_owned()),
                ("decision".to_owned(), "allow".to_owned()),
            ]
        );
        assert_eq!(found[1].action, "https://app.test/cb");
        assert_eq!(found[1].value("code"), Some("c"));
    }

    #[test]
    fn unescapes_references_and_leaves_stray_ampersands() {
        assert_eq!(unescape("a &amp; b &#x27;c&#39; &lt;&gt;"), "a & b 'c' <>");
        assert_eq!(unescape("x&y; &unknown; & end&"), "x&y; &unknown; & end&");
    }

    #[test]
    fn cookies_expire_by_max_age_or_date() {
        let set = SetCookie::parse("sigil_session=abc; HttpOnly; SameSite=Lax; Path=/").unwrap();
        assert_eq!(set.value, "abc");
        assert_eq!(set.attribute("httponly"), Some(None));
        assert_eq!(set.attribute("samesite"), Some(Some("Lax")));
        assert!(!set.expired());
        assert!(SetCookie::parse("a=; Max-Age=0").unwrap().expired());
        assert!(
            SetCookie::parse("a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
                .unwrap()
                .expired()
        );
        assert!(
            !SetCookie::parse("a=b; Expires=Fri, 01 Jan 2100 00:00:00 GMT")
                .unwrap()
                .expired()
        );
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
    }

    #[test]
    fn s256_is_unpadded_base64url_of_sha256() {
        // Computed independently: base64.urlsafe_b64encode(hashlib.sha256(v).digest()).
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K1uhbF9ItyIZUC8j4bE2Qc3tVg"),
            "PRzhvdLtwIrWvKPWKNIIs13cw0s8gtTMRwxxUfBmiGE"
        );
        assert_eq!(
            half_sha256("dBjftJeZ4CVP-mB92K1uhbF9ItyIZUC8j4bE2Qc3tVg").len(),
            22
        );
    }

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
