//! The compact JWS serialization (RFC 7515 §7.1): assembling a signed token, and checking one
//! against this server's keys.

use crate::SigningKey;
use aws_lc_rs::rand::SystemRandom;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sigil_core::signing::{SigningError, VerifiedJwt, VerifyError};
use std::borrow::Cow;

/// `header.payload.signature`, with the key's pre-encoded header for `typ`.
pub(crate) async fn sign(
    key: &SigningKey,
    rng: &SystemRandom,
    typ: &str,
    claims_json: &[u8],
) -> Result<String, SigningError> {
    let header = key.encoded_header(typ);
    let encoded_len = |bytes: usize| (bytes * 4).div_ceil(3);
    let mut token = String::with_capacity(
        header.len() + 2 + encoded_len(claims_json.len()) + encoded_len(key.signature_len()),
    );
    token.push_str(&header);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(claims_json, &mut token);
    let signature = key.sign(rng, token.as_bytes()).await?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut token);
    Ok(token)
}

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(default)]
    typ: Option<String>,
    /// Critical extensions (RFC 7515 §4.1.11): this server issues none and understands none.
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

/// Checks `token` against the key `find` returns for its `kid`.
///
/// The key decides the algorithm: a header naming any other (`none`, `HS256`, or `RS256` on a
/// PS256 key) is refused before any cryptography, which rules out algorithm confusion.
pub(crate) fn verify<'k>(
    token: &str,
    find: impl Fn(&str) -> Option<&'k SigningKey>,
) -> Result<VerifiedJwt, VerifyError> {
    let mut parts = token.split('.');
    let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| VerifyError::Malformed)
    };
    let header_json = decode(header_b64)?;
    // A derived `Deserialize` would also take a JSON array; the header must be an object.
    if header_json.trim_ascii_start().first() != Some(&b'{') {
        return Err(VerifyError::Malformed);
    }
    let header: Header<'_> =
        serde_json::from_slice(&header_json).map_err(|_| VerifyError::Malformed)?;
    if header.crit.is_some() {
        return Err(VerifyError::Malformed);
    }
    let key = header
        .kid
        .as_deref()
        .and_then(find)
        .ok_or(VerifyError::UnknownKey)?;
    if header.alg != key.alg().as_str() {
        return Err(VerifyError::UnknownKey);
    }
    let signature = decode(signature_b64)?;
    let signed_len = header_b64.len() + 1 + claims_b64.len();
    let signed = token.get(..signed_len).ok_or(VerifyError::Malformed)?;
    if !key.verify(signed.as_bytes(), &signature) {
        return Err(VerifyError::BadSignature);
    }
    let claims =
        serde_json::from_slice(&decode(claims_b64)?).map_err(|_| VerifyError::Malformed)?;
    Ok(VerifiedJwt {
        typ: header.typ,
        claims,
    })
}
