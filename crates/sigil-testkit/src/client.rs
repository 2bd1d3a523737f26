//! Acting as an OAuth client or an API in tests.

use anyhow::{Context as _, anyhow};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

/// `Authorization: Basic …` as RFC 6749 §2.3.1 has clients send it (form-encoded first).
pub fn basic(client_id: &str, secret: &str) -> String {
    let pair = format!("{}:{}", form_encode(client_id), form_encode(secret));
    format!("Basic {}", STANDARD.encode(pair))
}

/// A form body from pairs.
pub fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn form_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The `sha256:` stored form of a secret, for test configurations.
pub fn sha256_secret(secret: &str) -> String {
    use sha2::Digest as _;
    format!(
        "sha256:{}",
        URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(secret.as_bytes()))
    )
}

/// A status and JSON body (or `Value::Null` for an empty or non-JSON body).
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// `WWW-Authenticate`, if sent.
    pub www_authenticate: Option<String>,
    /// `Cache-Control`, if sent.
    pub cache_control: Option<String>,
    /// The parsed body.
    pub body: Value,
}

/// POSTs a form with an optional Authorization header.
pub async fn post_form(
    url: &str,
    authorization: Option<&str>,
    body: &str,
) -> crate::Result<Answer> {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    answer(request.send().await?).await
}

/// Reads a response into an [`Answer`].
pub async fn answer(response: reqwest::Response) -> crate::Result<Answer> {
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let www_authenticate = header("www-authenticate");
    let cache_control = header("cache-control");
    let bytes = response.bytes().await?;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(Answer {
        status,
        www_authenticate,
        cache_control,
        body,
    })
}

/// Fetches a JSON document.
pub async fn get_json(url: &str) -> crate::Result<Value> {
    let response = reqwest::get(url).await?;
    anyhow::ensure!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    Ok(response.json().await?)
}

/// Validates a JWT access token as an API would: signature against the published JWKS (with
/// the `jsonwebtoken` crate, independent of Sigil's signer), `typ`, `iss`, `aud`, `exp`.
pub fn verify_access_token(
    token: &str,
    jwks: &Value,
    issuer: &str,
    audience: &str,
) -> crate::Result<Value> {
    verify_jwt(
        token,
        jwks,
        "at+jwt",
        issuer,
        audience,
        &["exp", "iss", "aud", "sub"],
    )
}

/// Validates an ID token as a relying party would (OIDC Core §3.1.3.7): signature against the
/// published JWKS (with the `jsonwebtoken` crate), `typ: JWT`, `iss`, `aud` containing
/// `client_id`, `exp`, `iat`. Returns the claims; `nonce` and the hashes are the caller's.
pub fn verify_id_token(
    token: &str,
    jwks: &Value,
    issuer: &str,
    client_id: &str,
) -> crate::Result<Value> {
    verify_jwt(
        token,
        jwks,
        "JWT",
        issuer,
        client_id,
        &["exp", "iat", "iss", "aud", "sub"],
    )
}

/// Checks a JWT's `typ`, its signature with the JWKS key its `kid` names, and its claims.
fn verify_jwt(
    token: &str,
    jwks: &Value,
    typ: &str,
    issuer: &str,
    audience: &str,
    required: &[&str],
) -> crate::Result<Value> {
    let header = jsonwebtoken::decode_header(token)?;
    anyhow::ensure!(
        header.typ.as_deref() == Some(typ),
        "typ is {:?}",
        header.typ
    );
    let kid = header
        .kid
        .clone()
        .ok_or_else(|| anyhow!("token has no kid"))?;
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone())?;
    let jwk = set
        .find(&kid)
        .ok_or_else(|| anyhow!("kid {kid} is not in the JWKS"))?;
    let key = DecodingKey::from_jwk(jwk)?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(required);
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation)?;
    Ok(data.claims)
}

/// A client's P-256 key pair for `private_key_jwt`.
pub struct ClientKey {
    pkcs8: Vec<u8>,
    /// The public JWK (with `kid` and `alg`).
    pub public_jwk: Value,
    kid: String,
}

impl ClientKey {
    /// A new key with the given `kid`.
    pub fn generate(kid: &str) -> crate::Result<Self> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| anyhow!("generating a P-256 key"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|_| anyhow!("parsing the generated key"))?;
        let point = pair.public_key().as_ref();
        let (x, y) = point
            .get(1..33)
            .zip(point.get(33..65))
            .context("unexpected public key encoding")?;
        let public_jwk = json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
        });
        Ok(Self {
            pkcs8: pkcs8.as_ref().to_vec(),
            public_jwk,
            kid: kid.to_owned(),
        })
    }

    /// Signs `claims` as a client assertion (ES256, with this key's kid).
    pub fn sign(&self, claims: &Value) -> crate::Result<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_ec_der(&self.pkcs8),
        )?)
    }

    /// A fresh, valid assertion for `client_id` at `audience`.
    pub fn assertion(&self, client_id: &str, audience: &str) -> crate::Result<String> {
        self.sign(&assertion_claims(client_id, audience, 60))
    }
}

/// Claims of a client assertion expiring `lifetime_secs` from now, with a random `jti`.
pub fn assertion_claims(client_id: &str, audience: &str, lifetime_secs: i64) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let mut jti = [0u8; 16];
    let _ = aws_lc_rs::rand::fill(&mut jti);
    json!({
        "iss": client_id, "sub": client_id, "aud": audience,
        "iat": now, "exp": now + lifetime_secs, "jti": URL_SAFE_NO_PAD.encode(jti),
    })
}

/// The `at_hash` / `c_hash` of `value` for the SHA-256 algorithms (RS256, ES256, PS256):
/// base64url of the left half of its SHA-256 (OIDC Core §3.1.3.6, §3.3.2.11).
pub fn half_sha256(value: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(value.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.get(..16).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_sha256_is_base64url_of_the_left_half() {
        // Computed independently:
        // base64.urlsafe_b64encode(hashlib.sha256(v).digest()[:16]).rstrip(b"=").
        assert_eq!(
            half_sha256("dBjftJeZ4CVP-mB92K1uhbF9ItyIZUC8j4bE2Qc3tVg"),
            "PRzhvdLtwIrWvKPWKNIIsw"
        );
    }
}
