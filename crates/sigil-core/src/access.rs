//! What a token grants: scopes (RFC 6749 §3.3) and audiences from resource indicators (RFC 8707).
//!
//! Rules:
//! - No `scope` parameter: the client's allowed scopes are the default.
//! - Every requested scope must be allowed for the client, else `invalid_scope`.
//! - Every `resource` must be an absolute URI without fragment naming a known API that the client
//!   holds at least one scope of, else `invalid_target`.
//! - With resources: the token is for exactly those audiences and carries only their scopes; an
//!   explicitly requested scope that none of them offers is `invalid_scope`.
//! - Without resources: the audiences are the APIs that offer any granted scope.
//! - A token must have at least one audience (RFC 9068 requires `aud`).

use crate::error::ProtocolError;
use crate::model::{ApiResource, Catalog, Client};
use crate::parameters::Parameters;
use crate::scope::ScopeSet;

/// The scopes and audiences a token will carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedAccess {
    /// Granted scopes, in request (or configuration) order, without duplicates.
    pub scopes: ScopeSet,
    /// Audiences: resource identifiers.
    pub audiences: Vec<String>,
}

impl GrantedAccess {
    /// The space-separated `scope` value.
    pub fn scope_string(&self) -> String {
        self.scopes.to_string()
    }
}

/// Decides scopes and audiences for a request's `scope` and `resource` parameters.
pub fn resolve(
    catalog: &Catalog,
    client: &Client,
    params: &Parameters,
) -> Result<GrantedAccess, ProtocolError> {
    let requested = requested_scopes(client, params.get("scope"))?;
    let resources = requested_resources(catalog, client, params)?;
    resolve_scopes(catalog, requested.scopes, requested.explicit, &resources)
}

/// Like [`resolve`] for scopes already parsed (an authorization request's, or a refresh
/// request narrowing what was granted), all of which the client is allowed.
pub fn resolve_requested(
    catalog: &Catalog,
    client: &Client,
    scopes: ScopeSet,
    params: &Parameters,
) -> Result<GrantedAccess, ProtocolError> {
    let resources = requested_resources(catalog, client, params)?;
    resolve_scopes(catalog, scopes, true, &resources)
}

/// Identity scopes (`openid`, `profile`, ...) are granted as asked and give no audience; API
/// scopes decide the audiences. A token with identity scopes only has none: the minter then
/// names the issuer itself (its userinfo endpoint) as the audience.
pub(crate) fn resolve_scopes(
    catalog: &Catalog,
    requested: ScopeSet,
    explicit: bool,
    resources: &[&ApiResource],
) -> Result<GrantedAccess, ProtocolError> {
    let identity = requested.filtered(|scope| catalog.is_identity_scope(scope));
    let api = requested.filtered(|scope| !catalog.is_identity_scope(scope));

    if resources.is_empty() {
        let audiences: Vec<String> = catalog
            .resources()
            .iter()
            .filter(|resource| api.iter().any(|scope| resource.has_scope(scope)))
            .map(|resource| resource.identifier.clone())
            .collect();
        if audiences.is_empty() && (identity.is_empty() || !api.is_empty()) {
            return Err(ProtocolError::invalid_scope(
                "the requested scopes belong to no API resource",
            ));
        }
        let scopes = identity.union(&api);
        return Ok(GrantedAccess { scopes, audiences });
    }

    let offered_by_resources =
        |scope: &str| resources.iter().any(|resource| resource.has_scope(scope));
    if explicit {
        if let Some(stray) = api.iter().find(|scope| !offered_by_resources(scope)) {
            return Err(ProtocolError::invalid_scope(format!(
                "scope `{stray}` is not offered by the requested resource"
            )));
        }
    }
    let api = api.filtered(offered_by_resources);
    if api.is_empty() {
        return Err(ProtocolError::invalid_scope(
            "no requested scope is offered by the requested resource",
        ));
    }
    let audiences = resources
        .iter()
        .map(|resource| resource.identifier.clone())
        .collect();
    let scopes = identity.union(&api);
    Ok(GrantedAccess { scopes, audiences })
}

pub(crate) struct RequestedScopes {
    pub scopes: ScopeSet,
    pub explicit: bool,
}

pub(crate) fn requested_scopes(
    client: &Client,
    scope: Option<&str>,
) -> Result<RequestedScopes, ProtocolError> {
    let Some(scope) = scope else {
        return Ok(RequestedScopes {
            scopes: client.scopes.iter().cloned().collect(),
            explicit: false,
        });
    };
    let scopes = ScopeSet::parse(scope)?;
    if let Some(refused) = scopes.first_refused(|scope| client.allows_scope(scope)) {
        return Err(ProtocolError::invalid_scope(format!(
            "scope `{refused}` is not allowed for this client"
        )));
    }
    Ok(RequestedScopes {
        scopes,
        explicit: true,
    })
}

pub(crate) fn requested_resources<'c>(
    catalog: &'c Catalog,
    client: &Client,
    params: &Parameters,
) -> Result<Vec<&'c ApiResource>, ProtocolError> {
    let mut resources: Vec<&ApiResource> = Vec::new();
    for indicator in params.all("resource") {
        let uri = url::Url::parse(indicator)
            .map_err(|_| ProtocolError::invalid_target("resource must be an absolute URI"))?;
        if uri.fragment().is_some() {
            return Err(ProtocolError::invalid_target(
                "resource must not contain a fragment",
            ));
        }
        let resource = catalog.resource(indicator).ok_or_else(|| {
            ProtocolError::invalid_target(format!("unknown resource `{indicator}`"))
        })?;
        if !resource
            .scopes
            .iter()
            .any(|scope| client.allows_scope(scope))
        {
            return Err(ProtocolError::invalid_target(format!(
                "this client may not request tokens for `{indicator}`"
            )));
        }
        if !resources
            .iter()
            .any(|seen| seen.identifier == resource.identifier)
        {
            resources.push(resource);
        }
    }
    Ok(resources)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::model::{AccessTokenFormat, ApiScope, TokenEndpointAuthMethod};
    use std::time::Duration;

    fn catalog() -> (Catalog, Client) {
        let client = Client {
            client_id: "app".into(),
            auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            secrets: vec![],
            jwks: vec![],
            grant_types: vec!["client_credentials".into()],
            scopes: vec![
                "orders.read".into(),
                "orders.write".into(),
                "billing.read".into(),
                "lonely".into(),
            ],
            access_token_format: AccessTokenFormat::Jwt,
            access_token_lifetime: Duration::from_secs(60),
            sign_in: Default::default(),
        };
        let scope = |name: &str| ApiScope {
            name: name.into(),
            description: None,
        };
        let resource = |id: &str, scopes: &[&str]| ApiResource {
            identifier: id.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            introspection_secrets: vec![],
        };
        let catalog = Catalog::new(
            vec![client.clone()],
            [
                "orders.read",
                "orders.write",
                "billing.read",
                "lonely",
                "admin",
            ]
            .map(scope)
            .to_vec(),
            vec![
                resource("https://orders", &["orders.read", "orders.write"]),
                resource("https://billing", &["billing.read"]),
                resource("https://admin", &["admin"]),
            ],
        );
        (catalog, client)
    }

    fn resolve_body(body: &str) -> Result<GrantedAccess, ProtocolError> {
        let (catalog, client) = catalog();
        let params = Parameters::parse(body.as_bytes(), &["resource"]).unwrap();
        resolve(&catalog, &client, &params)
    }

    #[test]
    fn scopes_map_to_the_apis_that_offer_them() {
        let access = resolve_body("scope=orders.read+billing.read").unwrap();
        assert_eq!(access.scopes.as_slice(), ["orders.read", "billing.read"]);
        assert_eq!(access.audiences, ["https://orders", "https://billing"]);
    }

    #[test]
    fn default_scope_is_the_clients_allowed_set() {
        let access = resolve_body("").unwrap();
        assert_eq!(access.scopes.as_slice().len(), 4);
        assert_eq!(access.audiences, ["https://orders", "https://billing"]);
    }

    #[test]
    fn resource_narrows_scopes_and_audience() {
        let access = resolve_body("resource=https%3A%2F%2Forders").unwrap();
        assert_eq!(access.scopes.as_slice(), ["orders.read", "orders.write"]);
        assert_eq!(access.audiences, ["https://orders"]);
    }

    #[test]
    fn disallowed_or_unknown_scope_is_invalid_scope() {
        for body in [
            "scope=admin",
            "scope=nope",
            "scope=orders.read+%22quoted%22",
            "scope=+",
        ] {
            assert_eq!(
                resolve_body(body).unwrap_err().code,
                ErrorCode::InvalidScope,
                "{body}"
            );
        }
    }

    #[test]
    fn scope_outside_the_requested_resource_is_invalid_scope() {
        let err = resolve_body("scope=billing.read&resource=https%3A%2F%2Forders").unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope);
    }

    #[test]
    fn unknown_forbidden_or_malformed_resource_is_invalid_target() {
        for body in [
            "resource=https%3A%2F%2Fadmin",
            "resource=https%3A%2F%2Funknown",
            "resource=relative%2Fpath",
            "resource=https%3A%2F%2Forders%23frag",
        ] {
            assert_eq!(
                resolve_body(body).unwrap_err().code,
                ErrorCode::InvalidTarget,
                "{body}"
            );
        }
    }

    #[test]
    fn scope_without_any_api_is_refused() {
        assert_eq!(
            resolve_body("scope=lonely").unwrap_err().code,
            ErrorCode::InvalidScope
        );
    }
}
