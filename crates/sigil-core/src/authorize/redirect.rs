//! Sending a response (or an error) back to the client's redirect URI, in its response mode.

use crate::error::ProtocolError;
use serde::{Deserialize, Serialize};

/// How authorization response parameters reach the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseMode {
    /// In the redirect URI's query string (the default for `code`).
    Query,
    /// In the redirect URI's fragment (the default when tokens are returned).
    Fragment,
    /// As an auto-submitted HTML form POSTed to the redirect URI (OAuth 2.0 Form Post).
    FormPost,
}

impl ResponseMode {
    /// Every mode, for discovery.
    pub const ALL: [Self; 3] = [Self::Query, Self::Fragment, Self::FormPost];

    /// Parses `response_mode`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "query" => Some(Self::Query),
            "fragment" => Some(Self::Fragment),
            "form_post" => Some(Self::FormPost),
            _ => None,
        }
    }

    /// The registered value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::Fragment => "fragment",
            Self::FormPost => "form_post",
        }
    }
}

/// Parameters for the client at one of its registered redirect URIs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRedirect {
    /// The redirect URI, exactly as registered.
    pub redirect_uri: String,
    /// How to deliver the parameters.
    pub mode: ResponseMode,
    /// The parameters, in order.
    pub params: Vec<(String, String)>,
    /// The error this redirect reports, if it reports one. Its code and description are in
    /// `params`; its cause never goes on the wire: the HTTP layer logs it once, where it
    /// renders the redirect.
    pub error: Option<ProtocolError>,
}

impl ClientRedirect {
    /// An error response: `error`, `error_description`, `state` and `iss` (RFC 9207).
    pub fn error(
        redirect_uri: &str,
        mode: ResponseMode,
        issuer: &str,
        error: &ProtocolError,
        state: Option<&str>,
    ) -> Self {
        let mut params = vec![
            ("error".to_owned(), error.code.as_str().to_owned()),
            (
                "error_description".to_owned(),
                error.description.to_string(),
            ),
        ];
        if let Some(state) = state {
            params.push(("state".to_owned(), state.to_owned()));
        }
        params.push(("iss".to_owned(), issuer.to_owned()));
        Self {
            redirect_uri: redirect_uri.to_owned(),
            mode,
            params,
            error: Some(error.clone()),
        }
    }

    /// The value of one parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The `Location` for the query and fragment modes. The query mode keeps a query the
    /// registered URI already has (RFC 6749 §3.1.2).
    pub fn location(&self) -> String {
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.params)
            .finish();
        let separator = match self.mode {
            ResponseMode::Fragment => '#',
            ResponseMode::Query | ResponseMode::FormPost => {
                if self.redirect_uri.contains('?') {
                    '&'
                } else {
                    '?'
                }
            }
        };
        format!("{}{separator}{encoded}", self.redirect_uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_mode_keeps_a_registered_query_and_encodes_values() {
        let redirect = ClientRedirect {
            redirect_uri: "https://app.test/cb?tenant=1".into(),
            mode: ResponseMode::Query,
            params: vec![("state".into(), "a b&c=d#e".into())],
            error: None,
        };
        assert_eq!(
            redirect.location(),
            "https://app.test/cb?tenant=1&state=a+b%26c%3Dd%23e"
        );
    }

    #[test]
    fn fragment_mode_uses_the_fragment() {
        let redirect = ClientRedirect {
            redirect_uri: "https://app.test/cb".into(),
            mode: ResponseMode::Fragment,
            params: vec![("id_token".into(), "x.y.z".into())],
            error: None,
        };
        assert_eq!(redirect.location(), "https://app.test/cb#id_token=x.y.z");
    }
}
