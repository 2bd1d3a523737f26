//! Web origins (RFC 6454) as browsers write them in the `Origin` header, for CORS.

use std::fmt;

/// An `http` or `https` origin in the exact form a browser sends it in `Origin`:
/// `scheme://host[:port]`, lower-case host, no default port, no path and no trailing `/`.
///
/// Allowed CORS origins are compared with the `Origin` header character for character, so a
/// value that a browser would never send (`https://App.example.com/`, `https://*.example.com`)
/// is refused when the configuration is loaded instead of silently never matching.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WebOrigin(String);

/// Why a configured value is not a [`WebOrigin`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OriginError {
    /// Not an absolute URL at all.
    #[error("must be an origin such as https://app.example.com")]
    NotAUrl(#[source] url::ParseError),
    /// A `*` anywhere: patterns are not supported.
    #[error("wildcards are not supported: list every origin")]
    Wildcard,
    /// A scheme browsers do not send CORS requests from, or an opaque origin.
    #[error("the scheme must be http or https")]
    Scheme,
    /// A URL with a path, query, fragment or user name rather than an origin.
    #[error("an origin has no path, query, fragment or user (not even a trailing `/`): `{0}`")]
    NotAnOrigin(String),
    /// An origin that a browser would spell differently.
    #[error("browsers send this origin as `{0}`: write it that way")]
    NotAsBrowsersSendIt(String),
}

impl WebOrigin {
    /// Parses a configured origin; only the exact serialization browsers send is accepted.
    pub fn parse(value: &str) -> Result<Self, OriginError> {
        if value.contains('*') {
            return Err(OriginError::Wildcard);
        }
        let url = url::Url::parse(value).map_err(OriginError::NotAUrl)?;
        let origin = Self::of(&url).ok_or(OriginError::Scheme)?;
        if !url.username().is_empty()
            || url.password().is_some()
            || url.path() != "/"
            || url.query().is_some()
            || url.fragment().is_some()
            || value.ends_with('/')
        {
            return Err(OriginError::NotAnOrigin(origin.0));
        }
        if origin.0 != value {
            return Err(OriginError::NotAsBrowsersSendIt(origin.0));
        }
        Ok(origin)
    }

    /// The origin of an `http` or `https` URL (`None` for other schemes, whose origins are
    /// opaque).
    pub fn of_url(url: &str) -> Option<Self> {
        url::Url::parse(url).ok().as_ref().and_then(Self::of)
    }

    fn of(url: &url::Url) -> Option<Self> {
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        match url.origin() {
            origin @ url::Origin::Tuple(..) => Some(Self(origin.ascii_serialization())),
            url::Origin::Opaque(_) => None,
        }
    }

    /// The origin as the `Origin` header carries it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WebOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_as_browsers_send_them_are_accepted() {
        for value in [
            "https://app.example.com",
            "http://127.0.0.1:5173",
            "http://localhost:3000",
            "https://app.example.com:8443",
            "http://[::1]:8080",
            "https://xn--bcher-kva.example",
        ] {
            assert_eq!(WebOrigin::parse(value).unwrap().as_str(), value);
        }
    }

    #[test]
    fn anything_a_browser_would_not_send_is_refused_with_the_reason() {
        use OriginError as E;
        let refused = |value: &str| WebOrigin::parse(value).unwrap_err();
        let spelled = |origin: &str| E::NotAsBrowsersSendIt(origin.into());
        let not_an_origin = E::NotAnOrigin("https://app.example.com".into());
        for value in [
            "https://app.example.com/",
            "https://app.example.com/callback",
            "https://app.example.com?x=1",
            "https://app.example.com#top",
            "https://user@app.example.com",
            "https://user:pw@app.example.com",
        ] {
            assert_eq!(refused(value), not_an_origin, "{value}");
        }
        for value in ["https://*.example.com", "*", "http://localhost:*"] {
            assert_eq!(refused(value), E::Wildcard, "{value}");
        }
        for value in ["null", "app.example.com", "", "//app.example.com"] {
            assert!(matches!(refused(value), E::NotAUrl(_)), "{value}");
        }
        for value in [
            "file:///tmp/app.html",
            "chrome-extension://abcdef",
            "data:text/html,x",
        ] {
            assert_eq!(refused(value), E::Scheme, "{value}");
        }
        for (value, browsers_send) in [
            ("https://App.Example.com", "https://app.example.com"),
            ("https://app.example.com:443", "https://app.example.com"),
            ("http://localhost:80", "http://localhost"),
            ("https://bücher.example", "https://xn--bcher-kva.example"),
            ("http://127.1:8080", "http://127.0.0.1:8080"),
        ] {
            assert_eq!(refused(value), spelled(browsers_send), "{value}");
        }
    }

    #[test]
    fn a_url_has_the_origin_of_its_scheme_host_and_port() {
        let origin = |url| WebOrigin::of_url(url).map(|o| o.to_string());
        assert_eq!(
            origin("https://id.example.com/tenant/a"),
            Some("https://id.example.com".into())
        );
        assert_eq!(
            origin("http://127.0.0.1:8080"),
            Some("http://127.0.0.1:8080".into())
        );
        assert_eq!(
            origin("HTTPS://ID.example.com:443/"),
            Some("https://id.example.com".into())
        );
        assert_eq!(origin("urn:example"), None);
        assert_eq!(origin("not a url"), None);
    }
}
