//! id_tokens (OIDC Core §2) and the claims identity scopes release (§5.4).

use super::minter::Minter;
use crate::error::ProtocolError;
use crate::model::{Catalog, Client, User};
use crate::scope::ScopeSet;
use crate::time::Timestamp;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use sha2::Digest as _;

/// The `typ` header of id_tokens.
pub const ID_TOKEN_TYPE: &str = "JWT";

/// Claims an id_token sets itself, which user claims never override.
const RESERVED_CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "azp",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "acr",
    "sid",
    "at_hash",
    "c_hash",
    "jti",
    "nbf",
];

/// What an id_token says about the sign-in it comes from.
#[derive(Debug, Clone, Copy)]
pub struct IdTokenRequest<'a> {
    /// The client (`aud`, `azp`), whose id_token lifetime applies.
    pub client: &'a Client,
    /// The user.
    pub subject: &'a str,
    /// The authorization request's nonce.
    pub nonce: Option<&'a str>,
    /// When the user authenticated.
    pub auth_time: Timestamp,
    /// How the user authenticated.
    pub amr: &'a [String],
    /// The session id.
    pub sid: Option<&'a str>,
    /// The access token issued alongside, for `at_hash`.
    pub access_token: Option<&'a str>,
    /// The code issued alongside, for `c_hash`.
    pub code: Option<&'a str>,
    /// User claims to include (when no access token lets the client call userinfo).
    pub user_claims: Option<&'a serde_json::Map<String, serde_json::Value>>,
    /// Issue time.
    pub now: Timestamp,
}

#[derive(Serialize)]
struct IdTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    azp: &'a str,
    exp: u64,
    iat: u64,
    auth_time: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    amr: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    at_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    c_hash: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    user: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

impl Minter {
    /// Signs an id_token with the algorithm the client registered (RS256 by default).
    pub async fn id_token(&self, request: IdTokenRequest<'_>) -> Result<String, ProtocolError> {
        let algorithm = request.client.sign_in.id_token_signed_response_alg;
        // The token's own claims win: a user claim may never stand in for `sub`, `aud`, ...
        let user = request.user_claims.map(|claims| {
            claims
                .iter()
                .filter(|(name, _)| !RESERVED_CLAIMS.contains(&name.as_str()))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect::<serde_json::Map<_, _>>()
        });
        let claims = IdTokenClaims {
            iss: self.issuer(),
            sub: request.subject,
            aud: &request.client.client_id,
            azp: &request.client.client_id,
            exp: request
                .now
                .plus(request.client.sign_in.id_token_lifetime)
                .as_secs(),
            iat: request.now.as_secs(),
            auth_time: request.auth_time.as_secs(),
            nonce: request.nonce,
            amr: request.amr,
            sid: request.sid,
            at_hash: request
                .access_token
                .map(|t| half_hash(algorithm.as_str(), t)),
            c_hash: request.code.map(|c| half_hash(algorithm.as_str(), c)),
            user: user.as_ref(),
        };
        let json = serde_json::to_vec(&claims).map_err(|source| {
            ProtocolError::server_error().caused_by(super::EncodingFailed {
                what: "id_token",
                source,
            })
        })?;
        self.signer()
            .sign_with(algorithm, ID_TOKEN_TYPE, &json)
            .await
            .map_err(|error| super::signing_failed("an id_token", error))
    }
}

/// `at_hash` / `c_hash` (OIDC Core §3.3.2.11): base64url of the left half of the hash of the
/// value, with the hash of the signing algorithm (SHA-512 for EdDSA with Ed25519).
pub fn half_hash(algorithm: &str, value: &str) -> String {
    let digest: Vec<u8> = if algorithm.ends_with("384") {
        sha2::Sha384::digest(value.as_bytes()).to_vec()
    } else if algorithm.ends_with("512") || algorithm == "EdDSA" {
        sha2::Sha512::digest(value.as_bytes()).to_vec()
    } else {
        sha2::Sha256::digest(value.as_bytes()).to_vec()
    };
    let half = digest.get(..digest.len() / 2).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(half)
}

/// The claims the granted identity scopes release about `user`, with `sub` always.
pub fn user_claims(
    catalog: &Catalog,
    scopes: &ScopeSet,
    user: &User,
) -> serde_json::Map<String, serde_json::Value> {
    let mut claims = serde_json::Map::new();
    for scope in scopes {
        let Some(identity) = catalog.identity_scope(scope) else {
            continue;
        };
        for name in &identity.claims {
            if let Some(value) = user.claims.get(name) {
                claims.insert(name.clone(), value.clone());
            }
        }
    }
    claims.insert(
        "sub".to_owned(),
        serde_json::Value::String(user.subject.clone()),
    );
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_matches_the_oidc_example() {
        // OIDC Core, Appendix A.3: the access token and its at_hash for RS256.
        assert_eq!(
            half_hash("RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }

    /// The header and claims of a token from the test signer.
    fn decode(token: &str) -> (serde_json::Value, serde_json::Value) {
        let part = |index: usize| {
            let text = token.split('.').nth(index).unwrap_or_default();
            let bytes = URL_SAFE_NO_PAD.decode(text).unwrap_or_default();
            serde_json::from_slice(&bytes).unwrap_or_default()
        };
        (part(0), part(1))
    }

    #[tokio::test]
    async fn id_tokens_use_the_clients_algorithm_and_its_hash_access_tokens_the_servers() {
        use crate::signing::Algorithm;
        use crate::testing::{DigestSigner, NOW, NoStore, client};
        use std::sync::Arc;
        // Minting a JWT touches no store.
        let minter = Minter::new(
            "https://sigil.test".into(),
            Arc::new(DigestSigner),
            Arc::new(NoStore),
        );
        let mut eddsa = client("web", crate::model::AccessTokenFormat::Jwt);
        eddsa.sign_in.id_token_signed_response_alg = Algorithm::EdDSA;
        let default = client("web", crate::model::AccessTokenFormat::Jwt);
        let request = |client| IdTokenRequest {
            client,
            subject: "alice-id",
            nonce: None,
            auth_time: NOW,
            amr: &[],
            sid: None,
            access_token: Some("access-token"),
            code: Some("code"),
            user_claims: None,
            now: NOW,
        };

        let (header, claims) = decode(&minter.id_token(request(&eddsa)).await.unwrap_or_default());
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(claims["at_hash"], half_hash("EdDSA", "access-token"));
        assert_eq!(
            claims["at_hash"].as_str().map(str::len),
            Some(43),
            "SHA-512"
        );
        assert_eq!(claims["c_hash"], half_hash("EdDSA", "code"));

        let (header, claims) =
            decode(&minter.id_token(request(&default)).await.unwrap_or_default());
        assert_eq!(header["alg"], "RS256", "the registration default");
        assert_eq!(
            claims["at_hash"].as_str().map(str::len),
            Some(22),
            "SHA-256"
        );

        let access = crate::access::GrantedAccess {
            scopes: ScopeSet::parse("orders.read").unwrap(),
            audiences: vec!["https://orders".into()],
        };
        let minted = minter
            .access_token(crate::tokens::AccessTokenRequest {
                client: &eddsa,
                subject: "alice-id",
                access: &access,
                now: NOW,
                family: None,
                jti: None,
            })
            .await
            .map(|minted| minted.token)
            .unwrap_or_default();
        assert_eq!(
            decode(&minted).0["alg"],
            "ES256",
            "the signer's access-token algorithm"
        );
    }

    #[test]
    fn hash_follows_the_algorithm() {
        assert_eq!(half_hash("ES256", "x").len(), 22);
        assert_eq!(half_hash("ES384", "x").len(), 32);
        assert_eq!(half_hash("EdDSA", "x").len(), 43);
    }
}
