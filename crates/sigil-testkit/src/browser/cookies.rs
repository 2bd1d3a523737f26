//! Cookies as a browser keeps them: [`SetCookie`] parses one `Set-Cookie` header (RFC 6265
//! §4.1) and says whether it deletes the cookie; [`CookieJar`] holds cookies by name and
//! writes the `Cookie` header.
//!
//! The jar ignores host, port and path: every backend of a test is one loopback host, where
//! browsers ignore the port too. A cookie is dropped when a response expires it (`Max-Age` ≤ 0
//! or `Expires` in the past). `Secure` is not enforced.

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

/// Cookies by name, in the order they were set.
#[derive(Debug, Clone, Default)]
pub struct CookieJar {
    cookies: Vec<(String, String)>,
}

impl CookieJar {
    /// The value of cookie `name`, if the jar holds it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Puts a cookie in the jar, replacing one of the same name.
    pub fn set(&mut self, name: &str, value: &str) {
        self.remove(name);
        self.cookies.push((name.to_owned(), value.to_owned()));
    }

    /// Drops cookie `name`.
    pub fn remove(&mut self, name: &str) {
        self.cookies.retain(|(n, _)| n != name);
    }

    /// Applies one `Set-Cookie` header as a browser does: the cookie replaces one of the same
    /// name, or deletes it if the header expires it. A header that does not parse is ignored.
    pub fn store(&mut self, set_cookie: &str) {
        let Some(cookie) = SetCookie::parse(set_cookie) else {
            return;
        };
        self.remove(&cookie.name);
        if !cookie.expired() {
            self.cookies.push((cookie.name, cookie.value));
        }
    }

    /// The `Cookie` request header (`a=1; b=2`), or `None` for an empty jar.
    pub fn header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

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
    fn a_header_without_a_name_value_pair_is_not_a_cookie() {
        assert!(SetCookie::parse("").is_none());
        assert!(SetCookie::parse("HttpOnly; Path=/").is_none());
        let empty = SetCookie::parse(" a = ; Path = /x ").unwrap();
        assert_eq!((empty.name.as_str(), empty.value.as_str()), ("a", ""));
        assert_eq!(empty.attribute("path"), Some(Some("/x")));
    }

    #[test]
    fn attribute_names_are_case_insensitive_and_values_kept_as_sent() {
        let set = SetCookie::parse("s=v=w; SAMESITE=Strict; max-AGE=60; Secure").unwrap();
        assert_eq!(set.value, "v=w");
        assert_eq!(set.attribute("samesite"), Some(Some("Strict")));
        assert_eq!(set.attribute("secure"), Some(None));
        assert_eq!(set.attribute("domain"), None);
        assert!(!set.expired());
    }

    #[test]
    fn max_age_wins_over_expires_and_garbage_expires_nothing() {
        let set = SetCookie::parse("a=b; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60");
        assert!(!set.unwrap().expired());
        assert!(SetCookie::parse("a=b; Max-Age=-1").unwrap().expired());
        assert!(!SetCookie::parse("a=b; Max-Age=soon").unwrap().expired());
        assert!(
            !SetCookie::parse("a=b; Expires=yesterday")
                .unwrap()
                .expired()
        );
    }

    #[test]
    fn http_dates_reject_what_is_not_an_imf_fixdate() {
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        // 2024 is a leap year: 29 February exists and 1 March is the day after.
        let leap = http_date("Thu, 29 Feb 2024 00:00:00 GMT").unwrap();
        assert_eq!(
            http_date("Fri, 01 Mar 2024 00:00:00 GMT"),
            Some(leap + 86_400)
        );
        assert_eq!(http_date("Thu, 01 Smarch 1970 00:00:00 GMT"), None);
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00 GMT"), None);
        assert_eq!(http_date("Thu, 01 Jan"), None);
        assert_eq!(http_date("Wed, 31 Dec 1969 23:59:59 GMT"), None);
    }

    #[test]
    fn the_jar_replaces_by_name_and_forgets_expired_cookies() {
        let mut jar = CookieJar::default();
        assert_eq!(jar.header(), None);
        jar.store("a=1; Path=/");
        jar.store("b=2; HttpOnly");
        jar.store("a=3");
        assert_eq!(jar.get("a"), Some("3"));
        assert_eq!(jar.header().as_deref(), Some("b=2; a=3"));
        jar.store("b=; Max-Age=0");
        assert_eq!(jar.get("b"), None);
        jar.store("not a cookie");
        assert_eq!(jar.header().as_deref(), Some("a=3"));
        jar.set("c", "4");
        jar.remove("a");
        assert_eq!(jar.header().as_deref(), Some("c=4"));
    }
}
