//! Request parameters from an `application/x-www-form-urlencoded` body (RFC 6749 §3.1, App. B).
//!
//! Strict by design: non-UTF-8 input, malformed percent-encoding and repeated parameters are
//! `invalid_request`; parameters sent without a value are treated as omitted.

use crate::error::ProtocolError;
use std::borrow::Cow;

/// More parameters than any token, introspection or revocation request needs.
const MAX_PARAMETERS: usize = 64;

/// Parsed request parameters.
#[derive(Debug, Default, Clone)]
pub struct Parameters {
    pairs: Vec<(String, String)>,
}

impl Parameters {
    /// Parses a form body. Only names in `repeatable` (such as RFC 8707's `resource`) may
    /// appear more than once.
    pub fn parse(body: &[u8], repeatable: &[&str]) -> Result<Self, ProtocolError> {
        let body = std::str::from_utf8(body)
            .map_err(|_| ProtocolError::invalid_request("the request body is not valid UTF-8"))?;
        let mut pairs: Vec<(String, String)> = Vec::new();
        for field in body.split('&').filter(|field| !field.is_empty()) {
            let (raw_name, raw_value) = field.split_once('=').unwrap_or((field, ""));
            let name = decode_component(raw_name)?;
            let value = decode_component(raw_value)?;
            if value.is_empty() {
                continue;
            }
            if pairs.len() == MAX_PARAMETERS {
                return Err(ProtocolError::invalid_request("too many parameters"));
            }
            let seen = pairs.iter().any(|(existing, _)| *existing == name);
            if seen && !repeatable.contains(&name.as_ref()) {
                return Err(ProtocolError::invalid_request(format!(
                    "parameter `{name}` must not be repeated"
                )));
            }
            pairs.push((name.into_owned(), value.into_owned()));
        }
        Ok(Self { pairs })
    }

    /// The value of a parameter that appears at most once.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A parameter that must be present.
    pub fn require(&self, name: &str) -> Result<&str, ProtocolError> {
        self.get(name)
            .ok_or_else(|| ProtocolError::invalid_request(format!("missing parameter `{name}`")))
    }

    /// Every parameter as received, in order (a repeatable one once per value).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// Every value of a repeatable parameter, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Decodes one `application/x-www-form-urlencoded` name or value: `+` is a space, `%XX` a
/// byte; the result must be UTF-8.
pub(crate) fn decode_component(raw: &str) -> Result<Cow<'_, str>, ProtocolError> {
    let malformed = || ProtocolError::invalid_request("malformed form encoding");
    if !raw.bytes().any(|b| b == b'+' || b == b'%') {
        return Ok(Cow::Borrowed(raw));
    }
    let mut bytes = Vec::with_capacity(raw.len());
    let mut input = raw.bytes();
    while let Some(byte) = input.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = input.next().and_then(hex_value).ok_or_else(malformed)?;
                let low = input.next().and_then(hex_value).ok_or_else(malformed)?;
                bytes.push(high << 4 | low);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes)
        .map(Cow::Owned)
        .map_err(|_| ProtocolError::invalid_request("a parameter is not valid UTF-8"))
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|v| u8::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn decodes_plus_and_percent_escapes() {
        let params =
            Parameters::parse(b"scope=a+b%20c&grant_type=client_credentials", &[]).unwrap();
        assert_eq!(params.get("scope"), Some("a b c"));
        assert_eq!(params.get("grant_type"), Some("client_credentials"));
    }

    #[test]
    fn empty_values_are_omitted() {
        let params = Parameters::parse(b"scope=&grant_type=x&&flag", &[]).unwrap();
        assert_eq!(params.get("scope"), None);
        assert_eq!(params.get("flag"), None);
        assert!(params.require("scope").is_err());
    }

    #[test]
    fn duplicates_are_rejected_unless_repeatable() {
        let err = Parameters::parse(b"scope=a&scope=b", &[]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        let params = Parameters::parse(
            b"resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb",
            &["resource"],
        )
        .unwrap();
        assert_eq!(
            params.all("resource").collect::<Vec<_>>(),
            ["https://a", "https://b"]
        );
    }

    #[test]
    fn rejects_bad_encoding_and_non_utf8() {
        for body in [&b"a=%zz"[..], b"a=%4", b"a=%ff%fe", b"a=\xff"] {
            let err = Parameters::parse(body, &[]).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidRequest, "{body:?}");
        }
    }

    #[test]
    fn caps_the_number_of_parameters() {
        let body = (0..100)
            .map(|i| format!("p{i}=v"))
            .collect::<Vec<_>>()
            .join("&");
        assert!(Parameters::parse(body.as_bytes(), &[]).is_err());
    }
}
