//! Discovery metadata: OpenID Connect Discovery 1.0 and RFC 8414, serialized once at start.

use actix_web::web::Bytes;
use serde_json::json;

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
    /// Algorithms the server signs tokens with.
    pub signing_algorithms: Vec<&'a str>,
}

impl Discovery {
    /// Builds the document. Both well-known paths serve the same content: an OAuth
    /// authorization server's RFC 8414 fields plus the OIDC ones that apply.
    pub fn new(inputs: &DiscoveryInputs<'_>) -> Result<Self, serde_json::Error> {
        let issuer = inputs.issuer;
        let url = |path: &str| format!("{issuer}{path}");
        let auth_methods = [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ];
        let assertion_algorithms = [
            "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
        ];
        let document = json!({
            "issuer": issuer,
            "jwks_uri": url(EndpointPaths::JWKS),
            "token_endpoint": url(EndpointPaths::TOKEN),
            "introspection_endpoint": url(EndpointPaths::INTROSPECTION),
            "revocation_endpoint": url(EndpointPaths::REVOCATION),
            "grant_types_supported": inputs.grant_types,
            "scopes_supported": inputs.scopes,
            // No authorization endpoint is served yet, so no response type is supported.
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": auth_methods,
            "token_endpoint_auth_signing_alg_values_supported": assertion_algorithms,
            "introspection_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint_auth_signing_alg_values_supported": assertion_algorithms,
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint_auth_signing_alg_values_supported": assertion_algorithms,
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": inputs.signing_algorithms,
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
