//! Reading the credentials a token, introspection or revocation request carries: HTTP Basic,
//! `client_secret_post`, a JWT client assertion (RFC 7523), or only a `client_id` (public
//! clients). One method per request; a request that mixes them is refused before any check.

use crate::error::{ErrorCode, ProtocolError};
use crate::model::TokenEndpointAuthMethod;
use crate::parameters::{Parameters, decode_component};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::assertion::CLIENT_ASSERTION_TYPE_JWT_BEARER;

/// The credentials a request carries. A request that mixes methods is `invalid_request`.
#[derive(Clone, PartialEq, Eq)]
pub enum PresentedCredentials {
    /// HTTP Basic.
    Basic {
        /// The client id (form-decoded, per RFC 6749 §2.3.1).
        client_id: String,
        /// The secret (form-decoded).
        secret: String,
    },
    /// `client_id` and `client_secret` in the body.
    Post {
        /// The client id.
        client_id: String,
        /// The secret.
        secret: String,
    },
    /// A `client_assertion` JWT; its `sub` names the client.
    Assertion {
        /// The client id: the `client_id` parameter if sent, else the assertion's unverified `sub`.
        client_id: String,
        /// The compact JWT.
        assertion: String,
    },
    /// Only `client_id`: a public client.
    None {
        /// The client id.
        client_id: String,
    },
}

impl std::fmt::Debug for PresentedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedCredentials")
            .field("method", &self.method().as_str())
            .field("client_id", &self.client_id())
            .finish_non_exhaustive()
    }
}

impl PresentedCredentials {
    /// Reads the credentials from the `Authorization` header value (if any) and the body.
    /// `Ok(None)` means the request carries no client identification at all.
    pub fn extract(
        authorization: Option<&str>,
        params: &Parameters,
    ) -> Result<Option<Self>, ProtocolError> {
        let body_id = params.get("client_id");
        let body_secret = params.get("client_secret");
        let assertion = params.get("client_assertion");
        let assertion_type = params.get("client_assertion_type");

        let mut methods = 0;
        methods += usize::from(authorization.is_some());
        methods += usize::from(body_secret.is_some());
        methods += usize::from(assertion.is_some() || assertion_type.is_some());
        if methods > 1 {
            return Err(ProtocolError::invalid_request(
                "the request uses more than one client authentication method",
            ));
        }

        if let Some(header) = authorization {
            let (client_id, secret) = parse_basic(header)?;
            if body_id.is_some_and(|id| id != client_id) {
                return Err(ProtocolError::invalid_request(
                    "client_id in the body does not match the Authorization header",
                ));
            }
            return Ok(Some(Self::Basic { client_id, secret }));
        }
        if let Some(secret) = body_secret {
            let client_id = body_id.ok_or_else(|| {
                ProtocolError::invalid_request("client_secret sent without client_id")
            })?;
            return Ok(Some(Self::Post {
                client_id: client_id.to_owned(),
                secret: secret.to_owned(),
            }));
        }
        if assertion.is_some() || assertion_type.is_some() {
            if assertion_type != Some(CLIENT_ASSERTION_TYPE_JWT_BEARER) {
                return Err(ProtocolError::invalid_request(format!(
                    "client_assertion_type must be {CLIENT_ASSERTION_TYPE_JWT_BEARER}"
                )));
            }
            let assertion = assertion.ok_or_else(|| {
                ProtocolError::invalid_request("missing parameter `client_assertion`")
            })?;
            // RFC 7521 §4.2.1: an assertion that is not valid is `invalid_client`.
            let subject = super::assertion::unverified_subject(assertion).ok_or_else(|| {
                ProtocolError::new(
                    ErrorCode::InvalidClient,
                    "client_assertion is not a JWT with a `sub` claim",
                )
            })?;
            if body_id.is_some_and(|id| id != subject) {
                return Err(ProtocolError::invalid_request(
                    "client_id does not match the client assertion's subject",
                ));
            }
            return Ok(Some(Self::Assertion {
                client_id: subject,
                assertion: assertion.to_owned(),
            }));
        }
        Ok(body_id.map(|id| Self::None {
            client_id: id.to_owned(),
        }))
    }

    /// The client the request claims to be.
    pub fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. }
            | Self::Post { client_id, .. }
            | Self::Assertion { client_id, .. }
            | Self::None { client_id } => client_id,
        }
    }

    /// The method used.
    pub fn method(&self) -> TokenEndpointAuthMethod {
        match self {
            Self::Basic { .. } => TokenEndpointAuthMethod::ClientSecretBasic,
            Self::Post { .. } => TokenEndpointAuthMethod::ClientSecretPost,
            Self::Assertion { .. } => TokenEndpointAuthMethod::PrivateKeyJwt,
            Self::None { .. } => TokenEndpointAuthMethod::None,
        }
    }
}

/// Parses `Basic base64(form-encoded id ":" form-encoded secret)` (RFC 6749 §2.3.1): split at
/// the first `:`, then decode each half on its own, so that nothing in one half (an `&`, an
/// `=`) can change how the other is read.
fn parse_basic(header: &str) -> Result<(String, String), ProtocolError> {
    let malformed = || {
        ProtocolError::new(
            crate::error::ErrorCode::InvalidClient,
            "malformed Basic credentials",
        )
    };
    let (scheme, encoded) = header.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (raw_id, raw_secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let client_id = decode_component(raw_id).map_err(|_| malformed())?;
    let secret = decode_component(raw_secret).map_err(|_| malformed())?;
    if client_id.is_empty() || secret.is_empty() {
        return Err(malformed());
    }
    Ok((client_id.into_owned(), secret.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(body: &str) -> Parameters {
        Parameters::parse(body.as_bytes(), &[]).unwrap()
    }

    /// Basic with the id and secret exactly as given, not form-encoded first (as curl and
    /// many client libraries send them).
    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn an_assertion_that_is_no_jwt_is_invalid_client() {
        let type_ = form_urlencoded::byte_serialize(CLIENT_ASSERTION_TYPE_JWT_BEARER.as_bytes())
            .collect::<String>();
        for body in [
            format!("client_assertion_type={type_}&client_assertion=garbage.x.y&client_id=app"),
            format!("client_assertion_type={type_}&client_assertion=garbage"),
        ] {
            let error = PresentedCredentials::extract(None, &params(&body)).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidClient, "{body}");
        }
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let creds =
            PresentedCredentials::extract(Some(&basic("my%20app", "s%3Acret")), &params(""))
                .unwrap();
        assert_eq!(
            creds,
            Some(PresentedCredentials::Basic {
                client_id: "my app".into(),
                secret: "s:cret".into()
            })
        );
    }

    fn basic_of(header: &str) -> (String, String) {
        match PresentedCredentials::extract(Some(header), &params("")) {
            Ok(Some(PresentedCredentials::Basic { client_id, secret })) => (client_id, secret),
            other => panic!("{header}: {other:?}"),
        }
    }

    #[test]
    fn a_user_name_cannot_smuggle_another_client_id() {
        // RFC 6749 §2.3.1: the id and the secret are decoded apart; `&` and `=` are data.
        let (client_id, secret) = basic_of(&basic("&id=cc", "cc-secret"));
        assert_eq!(client_id, "&id=cc");
        assert_eq!(secret, "cc-secret");
        let (client_id, _) = basic_of(&basic("x&id=cc&secret=s", "t"));
        assert_eq!(client_id, "x&id=cc&secret=s");
    }

    #[test]
    fn secrets_keep_ampersands_colons_percents_and_plus_signs() {
        // Sent raw: `&` and a second `:` are part of the secret.
        assert_eq!(basic_of(&basic("cc", "a&b=c:d")).1, "a&b=c:d");
        // Sent form-encoded, as the RFC has clients do.
        let (client_id, secret) = basic_of(&crate::testing::basic("my:app", "p&ss:w%rd+1 x"));
        assert_eq!(client_id, "my:app");
        assert_eq!(secret, "p&ss:w%rd+1 x");
        // `+` is a space in application/x-www-form-urlencoded.
        assert_eq!(basic_of(&basic("cc", "a+b")).1, "a b");
        assert_eq!(basic_of(&basic("cc", "50%25")).1, "50%");
    }

    #[test]
    fn bad_encoding_in_basic_credentials_is_invalid_client() {
        for header in [
            basic("cc", "50%"),
            basic("cc", "%zz"),
            basic("c%c", "s"),
            basic("", "s"),
            basic("cc", "%ff%fe"),
        ] {
            let err = PresentedCredentials::extract(Some(&header), &params("")).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidClient, "{header}");
        }
    }

    #[test]
    fn two_methods_at_once_are_rejected() {
        let err = PresentedCredentials::extract(
            Some(&basic("a", "b")),
            &params("client_id=a&client_secret=b"),
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn mismatched_client_id_is_rejected() {
        let err = PresentedCredentials::extract(Some(&basic("a", "b")), &params("client_id=other"))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn malformed_basic_is_invalid_client() {
        for header in [
            "Basic !!!",
            "Bearer abc",
            "Basic",
            &format!("Basic {}", STANDARD.encode("no-colon")),
        ] {
            let err = PresentedCredentials::extract(Some(header), &params("")).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidClient, "{header}");
        }
    }

    #[test]
    fn post_and_public_and_absent() {
        assert_eq!(
            PresentedCredentials::extract(None, &params("client_id=a&client_secret=b")).unwrap(),
            Some(PresentedCredentials::Post {
                client_id: "a".into(),
                secret: "b".into()
            })
        );
        assert_eq!(
            PresentedCredentials::extract(None, &params("client_id=a")).unwrap(),
            Some(PresentedCredentials::None {
                client_id: "a".into()
            })
        );
        assert_eq!(
            PresentedCredentials::extract(None, &params("grant_type=x")).unwrap(),
            None
        );
    }

    #[test]
    fn wrong_assertion_type_is_rejected() {
        let err = PresentedCredentials::extract(
            None,
            &params("client_assertion=a.b.c&client_assertion_type=x"),
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
    }
}
