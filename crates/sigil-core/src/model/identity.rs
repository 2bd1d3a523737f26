//! Identity scopes (OIDC Core §5.4): scopes that release claims about the user rather than
//! grant access to an API.

/// `openid`: the request is an OpenID Connect request; releases `sub`.
pub const OPENID: &str = "openid";

/// `offline_access`: ask for a refresh token (OIDC Core §11); releases no claims.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// A scope that releases user claims to the client (in the id_token or at userinfo).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityScope {
    /// The scope token.
    pub name: String,
    /// The claims it releases.
    pub claims: Vec<String>,
}

impl IdentityScope {
    fn new(name: &str, claims: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            claims: claims.iter().map(|claim| (*claim).to_owned()).collect(),
        }
    }
}

/// The scopes OIDC Core §5.4 defines, plus `offline_access`.
pub fn standard_identity_scopes() -> Vec<IdentityScope> {
    vec![
        IdentityScope::new(OPENID, &["sub"]),
        IdentityScope::new(
            "profile",
            &[
                "name",
                "family_name",
                "given_name",
                "middle_name",
                "nickname",
                "preferred_username",
                "profile",
                "picture",
                "website",
                "gender",
                "birthdate",
                "zoneinfo",
                "locale",
                "updated_at",
            ],
        ),
        IdentityScope::new("email", &["email", "email_verified"]),
        IdentityScope::new("address", &["address"]),
        IdentityScope::new("phone", &["phone_number", "phone_number_verified"]),
        IdentityScope::new(OFFLINE_ACCESS, &[]),
    ]
}
