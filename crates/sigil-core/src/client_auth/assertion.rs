//! `private_key_jwt`: a client assertion (RFC 7523 §2.2, §3; OIDC Core §9) checked against the
//! client's registered public keys, and recorded so it cannot be replayed.

use super::AuthFailure;
use crate::handle::GrantKey;
use crate::model::Client;
use crate::store::{Grant, GrantKind, GrantStore, PutOutcome};
use crate::time::Timestamp;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use std::time::Duration;

/// The `client_assertion_type` for JWT client assertions.
pub const CLIENT_ASSERTION_TYPE_JWT_BEARER: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;

/// What a verified assertion contributes to replay protection.
#[derive(Debug)]
pub(super) struct VerifiedAssertion {
    jti: String,
    expires_at: Timestamp,
}

#[derive(Deserialize)]
struct AssertionClaims {
    exp: u64,
    nbf: Option<u64>,
    jti: Option<String>,
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

/// Verifies signature, `iss` = `sub` = client id, `aud`, `exp` (not past, not too far
/// ahead), `nbf` and the presence of `jti`.
pub(super) fn verify(
    client: &Client,
    assertion: &str,
    audiences: &[String],
    max_lifetime: Duration,
    now: Timestamp,
) -> Result<VerifiedAssertion, AuthFailure> {
    let invalid = |reason: &str| AuthFailure::InvalidAssertion(reason.to_owned());
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| invalid("malformed header"))?;
    if matches!(
        header.alg,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    ) {
        return Err(invalid(
            "symmetric algorithms are not accepted for private_key_jwt",
        ));
    }
    let candidates = client.jwks.iter().filter(|jwk| {
        jwk.algorithms.contains(&header.alg)
            && match (&header.kid, &jwk.kid) {
                (Some(wanted), Some(kid)) => wanted == kid,
                (Some(_), None) => false,
                (None, _) => true,
            }
    });

    let mut validation = Validation::new(header.alg);
    validation.set_audience(audiences);
    validation.set_issuer(&[&client.client_id]);
    validation.sub = Some(client.client_id.clone());
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    // Time is checked below against the caller's `now`, not the library's clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;

    let mut last_error = invalid("no registered key matches the assertion's kid and alg");
    for jwk in candidates {
        match jsonwebtoken::decode::<AssertionClaims>(assertion, &jwk.key, &validation) {
            Ok(data) => return check_times(data.claims, max_lifetime, now),
            Err(error) => last_error = AuthFailure::InvalidAssertion(error.to_string()),
        }
    }
    Err(last_error)
}

fn check_times(
    claims: AssertionClaims,
    max_lifetime: Duration,
    now: Timestamp,
) -> Result<VerifiedAssertion, AuthFailure> {
    let invalid = |reason: &str| Err(AuthFailure::InvalidAssertion(reason.to_owned()));
    let now = now.as_secs();
    if claims.exp.saturating_add(LEEWAY_SECS) <= now {
        return invalid("assertion expired");
    }
    if claims.exp > now.saturating_add(max_lifetime.as_secs() + LEEWAY_SECS) {
        return invalid("assertion lives too long");
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf > now.saturating_add(LEEWAY_SECS))
    {
        return invalid("assertion not yet valid");
    }
    let Some(jti) = claims.jti.filter(|jti| !jti.is_empty()) else {
        return invalid("assertion has no jti");
    };
    Ok(VerifiedAssertion {
        jti,
        expires_at: Timestamp(claims.exp.saturating_add(LEEWAY_SECS)),
    })
}

/// Records the assertion's `jti` until the assertion expires; a second use is a replay.
pub(super) async fn record_once(
    store: &dyn GrantStore,
    client: &Client,
    assertion: &VerifiedAssertion,
    now: Timestamp,
) -> Result<(), AuthFailure> {
    let record = Grant {
        key: GrantKey::derived("client_assertion", &[&client.client_id, &assertion.jti]),
        kind: GrantKind::ClientAssertion,
        client_id: client.client_id.clone(),
        subject: None,
        family: None,
        issued_at: now,
        expires_at: assertion.expires_at,
        consumed_at: None,
        payload: Vec::new(),
    };
    match store.put(record).await {
        Ok(PutOutcome::Stored) => Ok(()),
        Ok(PutOutcome::AlreadyExists) => Err(AuthFailure::ReplayedAssertion),
        Err(_) => Err(AuthFailure::StoreUnavailable),
    }
}
