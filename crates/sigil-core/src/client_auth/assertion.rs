//! `private_key_jwt`: a client assertion (RFC 7523 §2.2, §3; OIDC Core §9) checked against the
//! client's registered public keys, and recorded so it cannot be replayed.
//!
//! The JOSE header is read here rather than by `jsonwebtoken`, because the algorithm names
//! clients send outgrow that crate's list: RFC 9864's fully specified `Ed25519` (the default
//! of oauth4webapi and openid-client) is what `EdDSA` means for an Ed25519 key, the only
//! kind of EdDSA key a client can register. Reading it here also lets every refusal say
//! what was wrong, for the audit log.

use super::AuthFailure;
use crate::model::{Client, ClientJwk};
use crate::repository::ClientAssertions;
use crate::store::GrantStore;
use crate::time::Timestamp;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use std::time::Duration;

/// The `client_assertion_type` for JWT client assertions.
pub const CLIENT_ASSERTION_TYPE_JWT_BEARER: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;

/// Longest `alg` value quoted back in a refusal (the value is the caller's).
const MAX_QUOTED_ALG: usize = 40;

/// What a verified assertion contributes to replay protection.
#[derive(Debug)]
pub(super) struct VerifiedAssertion {
    jti: String,
    expires_at: Timestamp,
}

/// The header parameters that decide how an assertion is verified.
#[derive(Deserialize)]
struct AssertionHeader {
    alg: Option<String>,
    kid: Option<String>,
    crit: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    exp: Option<u64>,
    nbf: Option<u64>,
    jti: Option<String>,
}

/// `aud`: one string or several (RFC 7519 §4.1.3).
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn names_any(&self, accepted: &[String]) -> bool {
        match self {
            Self::One(audience) => accepted.contains(audience),
            Self::Many(audiences) => audiences.iter().any(|a| accepted.contains(a)),
        }
    }
}

/// A compact JWS, split: `header "." payload "." signature`.
struct Compact<'a> {
    /// `header "." payload`: what the signature covers.
    signing_input: &'a str,
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> Compact<'a> {
    fn split(token: &'a str) -> Option<Self> {
        let (signing_input, signature) = token.rsplit_once('.')?;
        let (header, payload) = signing_input.split_once('.')?;
        if payload.contains('.') {
            return None;
        }
        Some(Self {
            signing_input,
            header,
            payload,
            signature,
        })
    }
}

/// The `sub` of an assertion, read before verification only to find the client's keys.
pub(super) fn unverified_subject(assertion: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Subject {
        sub: String,
    }
    let payload = assertion.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice::<Subject>(&bytes)
        .ok()
        .map(|claims| claims.sub)
}
/// Verifies the signature with a registered key that fits the header's `alg` and `kid`, then
/// `iss` = `sub` = client id, `aud`, `exp` (not past, not too far ahead), `nbf` and the
/// presence of `jti`. A refusal says why.
pub(super) fn verify(
    client: &Client,
    assertion: &str,
    audiences: &[String],
    max_lifetime: Duration,
    now: Timestamp,
) -> Result<VerifiedAssertion, AuthFailure> {
    let compact = Compact::split(assertion).ok_or_else(|| invalid("malformed JWT"))?;
    let header: AssertionHeader = decode_part(compact.header)
        .ok_or_else(|| invalid("malformed header: not base64url-encoded JSON"))?;
    if header.crit.is_some() {
        // RFC 7515 §4.1.11: extensions the recipient does not understand must be refused.
        return Err(invalid("crit header parameters are not supported"));
    }
    let alg = header
        .alg
        .as_deref()
        .ok_or_else(|| invalid("malformed header: no `alg`"))?;
    let algorithm = verification_algorithm(alg)?;
    check_signature(client, alg, algorithm, header.kid.as_deref(), &compact)?;
    let claims: AssertionClaims = decode_part(compact.payload)
        .ok_or_else(|| invalid("malformed claims: not base64url-encoded JSON"))?;
    check_claims(&claims, &client.client_id, audiences)?;
    check_times(claims, max_lifetime, now)
}

fn invalid(reason: impl Into<String>) -> AuthFailure {
    AuthFailure::InvalidAssertion(reason.into())
}

fn decode_part<T: serde::de::DeserializeOwned>(part: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The algorithm that verifies a JWS `alg`, or why the assertion is refused.
fn verification_algorithm(alg: &str) -> Result<Algorithm, AuthFailure> {
    match alg {
        // RFC 9864 §2.2: the fully specified name of EdDSA with Ed25519.
        "Ed25519" => Ok(Algorithm::EdDSA),
        "none" => Err(invalid("unsigned assertions (alg `none`) are not accepted")),
        "HS256" | "HS384" | "HS512" => Err(invalid(format!(
            "symmetric algorithms (alg `{alg}`) are not accepted for private_key_jwt"
        ))),
        other => other.parse().map_err(|_| {
            let quoted: String = other.chars().take(MAX_QUOTED_ALG).collect();
            invalid(format!("unsupported alg `{quoted}`"))
        }),
    }
}

/// Succeeds if a registered key that fits the algorithm and the `kid` verifies the signature.
fn check_signature(
    client: &Client,
    alg: &str,
    algorithm: Algorithm,
    kid: Option<&str>,
    compact: &Compact<'_>,
) -> Result<(), AuthFailure> {
    let mut fitting = client
        .jwks
        .iter()
        .filter(|jwk| jwk.algorithms.contains(&algorithm))
        .peekable();
    if fitting.peek().is_none() {
        return Err(invalid(format!("no registered key is for alg `{alg}`")));
    }
    let mut candidates = fitting
        .filter(|jwk| match (kid, &jwk.kid) {
            (Some(wanted), Some(registered)) => wanted == registered,
            (Some(_), None) => false,
            (None, _) => true,
        })
        .peekable();
    if candidates.peek().is_none() {
        return Err(invalid(format!(
            "no registered key for alg `{alg}` has kid {kid:?}"
        )));
    }
    let verifies = |jwk: &ClientJwk| {
        jsonwebtoken::crypto::verify(
            compact.signature,
            compact.signing_input.as_bytes(),
            &jwk.key,
            algorithm,
        )
        .unwrap_or(false)
    };
    if candidates.any(verifies) {
        Ok(())
    } else {
        Err(invalid(
            "the signature does not verify with a registered key",
        ))
    }
}

/// `iss` and `sub` are the client (RFC 7523 §3); `aud` names this server.
fn check_claims(
    claims: &AssertionClaims,
    client_id: &str,
    audiences: &[String],
) -> Result<(), AuthFailure> {
    if claims.iss.as_deref() != Some(client_id) {
        return Err(invalid("iss is not the client id"));
    }
    if claims.sub.as_deref() != Some(client_id) {
        return Err(invalid("sub is not the client id"));
    }
    match &claims.aud {
        None => Err(invalid("no aud")),
        Some(audience) if !audience.names_any(audiences) => Err(invalid(
            "aud names neither the issuer nor an endpoint of this server",
        )),
        Some(_) => Ok(()),
    }
}

fn check_times(
    claims: AssertionClaims,
    max_lifetime: Duration,
    now: Timestamp,
) -> Result<VerifiedAssertion, AuthFailure> {
    let now = now.as_secs();
    let Some(exp) = claims.exp else {
        return Err(invalid("no exp"));
    };
    if exp.saturating_add(LEEWAY_SECS) <= now {
        return Err(invalid("assertion expired"));
    }
    if exp > now.saturating_add(max_lifetime.as_secs() + LEEWAY_SECS) {
        return Err(invalid("assertion lives too long"));
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf > now.saturating_add(LEEWAY_SECS))
    {
        return Err(invalid("assertion not yet valid"));
    }
    let Some(jti) = claims.jti.filter(|jti| !jti.is_empty()) else {
        return Err(invalid("assertion has no jti"));
    };
    Ok(VerifiedAssertion {
        jti,
        expires_at: Timestamp(exp.saturating_add(LEEWAY_SECS)),
    })
}

/// Records the assertion's `jti` until the assertion expires; a second use is a replay.
pub(super) async fn record_once(
    store: &dyn GrantStore,
    client: &Client,
    assertion: &VerifiedAssertion,
    now: Timestamp,
) -> Result<(), AuthFailure> {
    let first = ClientAssertions::new(store)
        .record_once(&client.client_id, &assertion.jti, now, assertion.expires_at)
        .await;
    match first {
        Ok(true) => Ok(()),
        Ok(false) => Err(AuthFailure::ReplayedAssertion),
        Err(_) => Err(AuthFailure::StoreUnavailable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccessTokenFormat, ClientJwk, TokenEndpointAuthMethod};
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
    };
    use serde_json::{Value, json};

    const AUDIENCE: &str = "https://sigil.test/connect/token";
    const NOW: Timestamp = crate::testing::NOW;

    fn b64(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn jwk(value: Value) -> ClientJwk {
        let parsed: jsonwebtoken::jwk::Jwk = serde_json::from_value(value).unwrap();
        ClientJwk::from_jwk(&parsed).unwrap()
    }

    /// A real Ed25519 key, signing as RFC 8037 describes.
    struct EdKey(Ed25519KeyPair);

    impl EdKey {
        fn generate() -> Self {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
            Self(Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap())
        }

        fn jwk(&self, registered_alg: Option<&str>) -> ClientJwk {
            let mut value = json!({
                "kty": "OKP", "crv": "Ed25519", "kid": "ed",
                "x": b64(self.0.public_key().as_ref()),
            });
            if let Some(alg) = registered_alg {
                value["alg"] = json!(alg);
            }
            jwk(value)
        }

        fn sign(&self, header: &Value, claims: &Value) -> String {
            let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
            let signature = self.0.sign(input.as_bytes());
            format!("{input}.{}", b64(signature.as_ref()))
        }
    }

    fn p256_jwk() -> ClientJwk {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let point = pair.public_key().as_ref();
        jwk(json!({
            "kty": "EC", "crv": "P-256", "kid": "ed",
            "x": b64(&point[1..33]), "y": b64(&point[33..65]),
        }))
    }

    fn claims() -> Value {
        json!({
            "iss": "ed-app", "sub": "ed-app", "aud": AUDIENCE,
            "iat": NOW.as_secs(), "exp": NOW.as_secs() + 60, "jti": "jti-1",
        })
    }

    fn header(alg: &str) -> Value {
        json!({ "alg": alg, "kid": "ed", "typ": "JWT" })
    }

    fn client_with(jwks: Vec<ClientJwk>) -> Client {
        let mut client = crate::testing::client("ed-app", AccessTokenFormat::Jwt);
        client.auth_method = TokenEndpointAuthMethod::PrivateKeyJwt;
        client.secrets.clear();
        client.jwks = jwks;
        client
    }

    fn check(client: &Client, assertion: &str) -> Result<VerifiedAssertion, AuthFailure> {
        verify(
            client,
            assertion,
            &[AUDIENCE.to_owned()],
            Duration::from_secs(300),
            NOW,
        )
    }

    fn reason(client: &Client, assertion: &str) -> String {
        match check(client, assertion) {
            Err(AuthFailure::InvalidAssertion(reason)) => reason,
            other => panic!("expected a refused assertion, got {other:?}"),
        }
    }

    #[test]
    fn ed25519_keys_accept_the_fully_specified_and_the_polymorphic_name() {
        let key = EdKey::generate();
        for registered in [None, Some("EdDSA")] {
            let client = client_with(vec![key.jwk(registered)]);
            // RFC 9864's `Ed25519`, which oauth4webapi and openid-client send by default,
            // and RFC 8037's `EdDSA`.
            for alg in ["Ed25519", "EdDSA"] {
                let assertion = key.sign(&header(alg), &claims());
                let verified = check(&client, &assertion);
                assert!(
                    verified.is_ok(),
                    "alg {alg}, key registered with {registered:?}: {verified:?}"
                );
            }
        }
    }

    #[test]
    fn an_ed25519_signature_must_verify() {
        let key = EdKey::generate();
        let client = client_with(vec![key.jwk(None)]);
        let other = EdKey::generate();
        let forged = other.sign(&header("Ed25519"), &claims());
        assert!(reason(&client, &forged).contains("signature"));

        let genuine = key.sign(&header("Ed25519"), &claims());
        let (signed, _) = genuine.rsplit_once('.').unwrap();
        let (head, _) = signed.split_once('.').unwrap();
        let mut claims = claims();
        claims["sub"] = json!("someone-else");
        let tampered = format!(
            "{head}.{}.{}",
            b64(claims.to_string()),
            genuine.rsplit('.').next().unwrap()
        );
        assert!(reason(&client, &tampered).contains("signature"));
    }

    #[test]
    fn an_alg_that_does_not_fit_the_key_type_is_refused() {
        let key = EdKey::generate();
        let ed_client = client_with(vec![key.jwk(None)]);
        // The header claims an algorithm the registered Ed25519 key is not for.
        for alg in ["ES256", "RS256", "PS256"] {
            let assertion = key.sign(&header(alg), &claims());
            let why = reason(&ed_client, &assertion);
            assert!(why.contains(alg), "{alg}: {why}");
        }
        // An Ed25519 signature presented to a client that registered a P-256 key.
        let ec_client = client_with(vec![p256_jwk()]);
        let why = reason(&ec_client, &key.sign(&header("Ed25519"), &claims()));
        assert!(why.contains("Ed25519"), "{why}");
    }

    #[test]
    fn the_reason_says_what_was_wrong_with_the_header() {
        let key = EdKey::generate();
        let client = client_with(vec![key.jwk(None)]);
        let why = reason(&client, &key.sign(&header("Ed448"), &claims()));
        assert!(why.contains("unsupported alg `Ed448`"), "{why}");
        let why = reason(&client, &key.sign(&header("none"), &claims()));
        assert!(why.contains("alg `none`"), "{why}");
        let why = reason(&client, &key.sign(&header("HS256"), &claims()));
        assert!(why.contains("symmetric"), "{why}");
        let why = reason(&client, &key.sign(&json!({ "kid": "ed" }), &claims()));
        assert!(why.contains("no `alg`"), "{why}");
        let why = reason(&client, "not-a-jwt");
        assert!(why.contains("malformed"), "{why}");
        let mut critical = header("Ed25519");
        critical["crit"] = json!(["exp"]);
        let why = reason(&client, &key.sign(&critical, &claims()));
        assert!(why.contains("crit"), "{why}");
    }

    #[test]
    fn claims_are_checked_after_the_signature() {
        let key = EdKey::generate();
        let client = client_with(vec![key.jwk(None)]);
        let mut wrong_audience = claims();
        wrong_audience["aud"] = json!(["https://elsewhere.test"]);
        let why = reason(&client, &key.sign(&header("Ed25519"), &wrong_audience));
        assert!(why.contains("aud"), "{why}");
        let mut many = claims();
        many["aud"] = json!(["https://elsewhere.test", AUDIENCE]);
        assert!(check(&client, &key.sign(&header("Ed25519"), &many)).is_ok());
        let mut wrong_issuer = claims();
        wrong_issuer["iss"] = json!("other");
        let why = reason(&client, &key.sign(&header("Ed25519"), &wrong_issuer));
        assert!(why.contains("iss"), "{why}");
        let mut no_exp = claims();
        no_exp.as_object_mut().unwrap().remove("exp");
        let why = reason(&client, &key.sign(&header("Ed25519"), &no_exp));
        assert!(why.contains("exp"), "{why}");
    }
}
