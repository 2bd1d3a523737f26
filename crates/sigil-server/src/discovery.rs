//! Discovery metadata: OpenID Connect Discovery 1.0 and RFC 8414, serialized once at start.

use actix_web::web::Bytes;
use serde_json::json;
use sigil_core::authorize::ResponseMode;
use sigil_core::model::ResponseType;

/// Where each endpoint is served, relative to the issuer.
#[derive(Debug, Clone, Copy)]
pub struct EndpointPaths;

impl EndpointPaths {
    /// OIDC discovery.
    pub const OPENID_CONFIGURATION: &'static str = "/.well-known/openid-configuration";
    /// RFC 8414 metadata.
    pub const AUTHORIZATION_SERVER: &'static str = "/.well-known/oauth-authorization-server";
    /// The JWKS.
    pub const JWKS: &'static str = "/.well-known/jwks.json";
    /// The token endpoint.
    pub const TOKEN: &'static str = "/connect/token";
    /// RFC 7662 introspection.
    pub const INTROSPECTION: &'static str = "/connect/introspect";
    /// RFC 7009 revocation.
    pub const REVOCATION: &'static str = "/connect/revocation";
    /// The authorization endpoint.
    pub const AUTHORIZE: &'static str = "/connect/authorize";
    /// Where a request carries on after the login page.
    pub const AUTHORIZE_CONTINUE: &'static str = "/connect/authorize/continue";
    /// OIDC userinfo.
    pub const USERINFO: &'static str = "/connect/userinfo";
    /// RP-initiated logout.
    pub const END_SESSION: &'static str = "/connect/endsession";
    /// The login page.
    pub const LOGIN: &'static str = "/account/login";
    /// The consent page.
    pub const CONSENT: &'static str = "/account/consent";
}

/// The serialized metadata documents.
#[derive(Debug, Clone)]
pub struct Discovery {
    document: Bytes,
}

/// What the metadata describes.
#[derive(Debug, Clone)]
pub struct DiscoveryInputs<'a> {
    /// The issuer identifier (no trailing slash).
    pub issuer: &'a str,
    /// Registered grant types.
    pub grant_types: Vec<&'a str>,
    /// Registered scopes.
    pub scopes: Vec<&'a str>,
    /// The algorithm the server signs access tokens with.
    pub signing_algorithms: Vec<&'a str>,
    /// Every algorithm ID tokens can be signed with: those the server has keys for (RS256
    /// among them whenever OpenID Connect is used).
    pub id_token_signing_algorithms: Vec<&'a str>,
    /// Claims identity scopes release.
    pub claims: Vec<&'a str>,
}

impl Discovery {
    /// Builds the document. Both well-known paths serve the same content: an OAuth
    /// authorization server's RFC 8414 fields plus the OIDC ones that apply.
    pub fn new(inputs: &DiscoveryInputs<'_>) -> Result<Self, serde_json::Error> {
        let issuer = inputs.issuer;
        let url = |path: &str| format!("{issuer}{path}");
        // Introspection needs a caller that proves who it is (RFC 7662 §2.1); public clients
        // (`none`) may use the token endpoint and revoke their own tokens (RFC 7009 §2.1).
        let confidential_auth_methods = [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ];
        let client_auth_methods = [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ];
        // Client assertions (private_key_jwt); `Ed25519` is RFC 9864's fully specified name
        // for what `EdDSA` means with the only kind of EdDSA key a client can register.
        let assertion_algorithms = [
            "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
            "Ed25519",
        ];
        let document = json!({
            "issuer": issuer,
            "jwks_uri": url(EndpointPaths::JWKS),
            "token_endpoint": url(EndpointPaths::TOKEN),
            "introspection_endpoint": url(EndpointPaths::INTROSPECTION),
            "revocation_endpoint": url(EndpointPaths::REVOCATION),
            "grant_types_supported": inputs.grant_types,
            "scopes_supported": inputs.scopes,
            "authorization_endpoint": url(EndpointPaths::AUTHORIZE),
            "userinfo_endpoint": url(EndpointPaths::USERINFO),
            "end_session_endpoint": url(EndpointPaths::END_SESSION),
            "response_types_supported": ResponseType::ALL.map(ResponseType::as_str),
            "response_modes_supported": ResponseMode::ALL.map(ResponseMode::as_str),
            "code_challenge_methods_supported": ["S256", "plain"],
            "prompt_values_supported": ["none", "login", "consent", "select_account"],
            "claims_supported": inputs.claims,
            "authorization_response_iss_parameter_supported": true,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "token_endpoint_auth_methods_supported": client_auth_methods,
            "token_endpoint_auth_signing_alg_values_supported": assertion_algorithms,
            "introspection_endpoint_auth_methods_supported": confidential_auth_methods,
            "introspection_endpoint_auth_signing_alg_values_supported": assertion_algorithms,
            "revocation_endpoint_auth_methods_supported": client_auth_methods,
            "revocation_endpoint_auth_signing_alg_values_supported": assertion_algorithms,
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": inputs.id_token_signing_algorithms,
            "access_token_signing_alg_values_supported": inputs.signing_algorithms,
        });
        Ok(Self {
            document: Bytes::from(serde_json::to_vec(&document)?),
        })
    }

    /// The serialized document.
    pub fn document(&self) -> Bytes {
        self.document.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> serde_json::Value {
        let discovery = Discovery::new(&DiscoveryInputs {
            issuer: "https://sigil.test",
            grant_types: vec!["authorization_code"],
            scopes: vec!["openid"],
            signing_algorithms: vec!["ES256"],
            id_token_signing_algorithms: vec!["ES256", "RS256"],
            claims: vec!["sub"],
        })
        .unwrap();
        serde_json::from_slice(&discovery.document()).unwrap()
    }

    #[test]
    fn public_clients_may_revoke_but_not_introspect() {
        let document = document();
        let methods = |field: &str| -> Vec<String> {
            serde_json::from_value(document[field].clone()).unwrap()
        };
        assert!(methods("token_endpoint_auth_methods_supported").contains(&"none".into()));
        assert!(methods("revocation_endpoint_auth_methods_supported").contains(&"none".into()));
        let introspection = methods("introspection_endpoint_auth_methods_supported");
        assert!(!introspection.is_empty());
        assert!(!introspection.contains(&"none".into()));
    }

    #[test]
    fn client_assertions_may_name_ed25519_either_way() {
        let document = document();
        let algorithms: Vec<String> = serde_json::from_value(
            document["token_endpoint_auth_signing_alg_values_supported"].clone(),
        )
        .unwrap();
        for alg in ["EdDSA", "Ed25519", "ES256", "RS256"] {
            assert!(algorithms.contains(&alg.into()), "{alg}");
        }
    }
}
