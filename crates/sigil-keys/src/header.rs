//! The JWS protected header `{"alg","kid","typ"}`, base64url-encoded once per key for the
//! `typ` values this server issues, so signing a token does not build or encode it again.

use crate::Algorithm;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::borrow::Cow;

/// The `typ` values encoded ahead of time: access tokens (RFC 9068), ID tokens, logout
/// tokens (OpenID back-channel logout) and JWT introspection responses (RFC 9701).
const PRE_ENCODED_TYPS: [&str; 4] = ["at+jwt", "JWT", "logout+jwt", "token-introspection+jwt"];

/// One key's encoded headers.
#[derive(Debug, Clone)]
pub(crate) struct EncodedHeaders {
    alg: Algorithm,
    kid: String,
    pre_encoded: Vec<(&'static str, String)>,
}

impl EncodedHeaders {
    pub(crate) fn new(alg: Algorithm, kid: &str) -> Self {
        let pre_encoded = PRE_ENCODED_TYPS
            .iter()
            .map(|&typ| (typ, encode(alg, kid, typ)))
            .collect();
        Self {
            alg,
            kid: kid.to_owned(),
            pre_encoded,
        }
    }

    /// The encoded header for `typ`: borrowed if encoded ahead of time, else encoded now.
    pub(crate) fn get(&self, typ: &str) -> Cow<'_, str> {
        match self.pre_encoded.iter().find(|(known, _)| *known == typ) {
            Some((_, encoded)) => Cow::Borrowed(encoded),
            None => Cow::Owned(encode(self.alg, &self.kid, typ)),
        }
    }
}

/// base64url of the header JSON; `typ` is escaped as any JSON string.
fn encode(alg: Algorithm, kid: &str, typ: &str) -> String {
    let header = serde_json::json!({ "alg": alg.as_str(), "kid": kid, "typ": typ });
    URL_SAFE_NO_PAD.encode(header.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pre_encoded_and_on_demand_headers_decode_to_the_same_members() {
        let headers = EncodedHeaders::new(Algorithm::ES256, "k1");
        for typ in ["at+jwt", "JWT", "odd\"typ"] {
            let encoded = headers.get(typ);
            assert_eq!(
                matches!(encoded, Cow::Borrowed(_)),
                PRE_ENCODED_TYPS.contains(&typ)
            );
            let json = URL_SAFE_NO_PAD
                .decode(encoded.as_bytes())
                .unwrap_or_default();
            let value: serde_json::Value = serde_json::from_slice(&json).unwrap_or_default();
            assert_eq!(
                value,
                serde_json::json!({ "alg": "ES256", "kid": "k1", "typ": typ })
            );
        }
    }
}
