//! `sigil smoke`: checks a running deployment the way a relying party and a client see it, and
//! exits non-zero with the reason at the first failure.
//!
//! 1. The discovery document (`/.well-known/openid-configuration` under the issuer, OpenID
//!    Connect Discovery §4) names exactly the expected issuer (§4.3).
//! 2. The JWKS at its `jwks_uri` parses and holds a key.
//! 3. With a client: a client-credentials token from its `token_endpoint` (`client_secret_basic`,
//!    RFC 6749 §2.3.1 and §4.4) is an `at+jwt` whose signature verifies with the JWKS key its
//!    `kid` names, and whose `iss` is the issuer and `exp` is in the future (RFC 9068 §4).
//!
//! The image has no shell and no curl, so this is what the Helm chart's test Pod runs. A Pod
//! reaches the service through its Service address while the issuer is the public URL: `--url`
//! says where to connect, and endpoints discovery names under the issuer are fetched there.

use crate::cli::SmokeArgs;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest_azure::{Client, RequestBuilder, StatusCode};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Why a deployment failed the check (or the check could not run).
#[derive(Debug, thiserror::Error)]
enum SmokeError {
    #[error("{value:?} is not an http or https URL")]
    BadUrl { value: String },
    #[error("reading {what} {}", path.display())]
    ReadFile {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the client secret file {} is empty", .0.display())]
    EmptySecret(PathBuf),
    #[error("no PEM certificate in the CA file {}", .0.display())]
    NoCertificate(PathBuf),
    #[error("building the HTTP client")]
    Client(#[source] reqwest_azure::Error),
    #[error("{what}: no answer from {url}")]
    Unreachable {
        what: &'static str,
        url: String,
        #[source]
        source: reqwest_azure::Error,
    },
    #[error("{what}: {url} answered {status}: {body}")]
    Status {
        what: &'static str,
        url: String,
        status: StatusCode,
        body: String,
    },
    #[error("{what}: {url} did not answer a JSON object")]
    NotJson {
        what: &'static str,
        url: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{what} from {url} has no {field:?}")]
    MissingField {
        what: &'static str,
        url: String,
        field: &'static str,
    },
    #[error(
        "discovery at {url} names the issuer {found:?}, expected {expected:?} \
         (the two must be identical: OpenID Connect Discovery §4.3)"
    )]
    WrongIssuer {
        url: String,
        found: String,
        expected: String,
    },
    #[error("the JWKS at {0} holds no key")]
    EmptyJwks(String),
    #[error("the token endpoint {url} refused client {client_id:?}: {status} {error}")]
    TokenRefused {
        url: String,
        client_id: String,
        status: StatusCode,
        error: String,
    },
    #[error("the access token is not a JWT (is the client set to reference tokens?)")]
    NotJwt(#[source] jsonwebtoken::errors::Error),
    #[error("the access token's typ is {0:?}, not \"at+jwt\" (RFC 9068 §2.1)")]
    WrongType(Option<String>),
    #[error("the access token names no kid")]
    NoKid,
    #[error("the access token's kid {0:?} is not in the JWKS")]
    UnknownKid(String),
    #[error("the access token is signed with {alg:?}, which the JWKS key {kid:?} does not allow")]
    WrongAlgorithm { alg: Algorithm, kid: String },
    #[error("the JWKS key {kid:?} cannot verify signatures")]
    BadKey {
        kid: String,
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    #[error("the access token does not verify against the JWKS key {kid:?} and the issuer")]
    Rejected {
        kid: String,
        #[source]
        source: jsonwebtoken::errors::Error,
    },
}

/// Runs the checks, printing one line per check that passed.
pub fn run(args: SmokeArgs) -> anyhow::Result<ExitCode> {
    super::command_runtime()?.block_on(smoke(args))?;
    Ok(ExitCode::SUCCESS)
}

async fn smoke(args: SmokeArgs) -> Result<(), SmokeError> {
    let target = Target::new(&args.issuer, args.url.as_deref())?;
    let client = http_client(&args)?;
    // Read before any request, so that a missing secret is reported as that.
    let credentials = match (&args.client_id, &args.client_secret_file) {
        (Some(client_id), Some(secret_file)) => Some((client_id, read_secret(secret_file)?)),
        _ => None,
    };

    let discovery_url = target.discovery_url();
    let discovery = get_json(&client, "discovery", &discovery_url).await?;
    let issuer = string_field(&discovery, "discovery", &discovery_url, "issuer")?;
    if issuer != args.issuer {
        return Err(SmokeError::WrongIssuer {
            url: discovery_url,
            found: issuer.to_owned(),
            expected: args.issuer,
        });
    }
    println!("ok  discovery  {discovery_url} names the issuer {issuer}");

    let jwks_url = target.endpoint(string_field(
        &discovery,
        "discovery",
        &discovery_url,
        "jwks_uri",
    )?);
    let jwks = get_json(&client, "JWKS", &jwks_url).await?;
    let jwks: JwkSet = serde_json::from_value(jwks).map_err(|source| SmokeError::NotJson {
        what: "JWKS",
        url: jwks_url.clone(),
        source,
    })?;
    if jwks.keys.is_empty() {
        return Err(SmokeError::EmptyJwks(jwks_url));
    }
    println!("ok  jwks       {jwks_url} holds {} key(s)", jwks.keys.len());

    let Some((client_id, secret)) = credentials else {
        println!("--  token      not checked: no --client-id and --client-secret-file");
        return Ok(());
    };
    let token_url = target.endpoint(string_field(
        &discovery,
        "discovery",
        &discovery_url,
        "token_endpoint",
    )?);
    let token = client_credentials_token(
        &client,
        &token_url,
        client_id,
        &secret,
        args.scope.as_deref(),
    )
    .await?;
    let (alg, kid, claims) = verify(&token, &jwks, issuer)?;
    let lifetime = claims
        .get("exp")
        .and_then(Value::as_u64)
        .zip(claims.get("iat").and_then(Value::as_u64))
        .map(|(exp, iat)| format!(", valid {} s", exp.saturating_sub(iat)))
        .unwrap_or_default();
    println!(
        "ok  token      {token_url} issued client {client_id:?} an {alg:?} access token \
         (kid {kid}{lifetime}); signature, iss and exp verified"
    );
    Ok(())
}

/// Where the deployment is reached: at the issuer, or at `--url` standing in for it.
struct Target {
    issuer: String,
    base: String,
}

impl Target {
    fn new(issuer: &str, url: Option<&str>) -> Result<Self, SmokeError> {
        for value in std::iter::once(issuer).chain(url) {
            let parsed = url::Url::parse(value).map_err(|_| SmokeError::BadUrl {
                value: value.to_owned(),
            })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(SmokeError::BadUrl {
                    value: value.to_owned(),
                });
            }
        }
        Ok(Self {
            issuer: issuer.trim_end_matches('/').to_owned(),
            base: url.unwrap_or(issuer).trim_end_matches('/').to_owned(),
        })
    }

    /// Discovery §4: the well-known path is appended to the issuer, its trailing `/` removed.
    fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.base)
    }

    /// An endpoint discovery announced, moved to `--url` if it lies under the issuer.
    fn endpoint(&self, announced: &str) -> String {
        match announced.strip_prefix(&self.issuer) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                format!("{}{rest}", self.base)
            }
            _ => announced.to_owned(),
        }
    }
}

/// A client that does not follow redirects (a redirected discovery document is a deployment
/// fault worth seeing) and trusts the system's CA bundle plus `--ca-file`.
fn http_client(args: &SmokeArgs) -> Result<Client, SmokeError> {
    let mut builder = Client::builder()
        .timeout(args.timeout)
        .redirect(reqwest_azure::redirect::Policy::none())
        .user_agent(concat!("sigil-smoke/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &args.ca_file {
        let pem = read_file("CA file", path)?;
        let roots = reqwest_azure::Certificate::from_pem_bundle(&pem)
            .ok()
            .filter(|roots| !roots.is_empty())
            .ok_or_else(|| SmokeError::NoCertificate(path.clone()))?;
        builder = builder.tls_certs_merge(roots);
    }
    builder.build().map_err(SmokeError::Client)
}

fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>, SmokeError> {
    std::fs::read(path).map_err(|source| SmokeError::ReadFile {
        what,
        path: path.to_owned(),
        source,
    })
}

fn read_secret(path: &Path) -> Result<String, SmokeError> {
    let text = read_file("the client secret file", path)?;
    let secret = String::from_utf8_lossy(&text).trim().to_owned();
    if secret.is_empty() {
        return Err(SmokeError::EmptySecret(path.to_owned()));
    }
    Ok(secret)
}

/// Sends `request` and returns the status and body (an error only if there was no answer).
async fn send(
    what: &'static str,
    url: &str,
    request: RequestBuilder,
) -> Result<(StatusCode, Vec<u8>), SmokeError> {
    let unreachable = |source| SmokeError::Unreachable {
        what,
        url: url.to_owned(),
        source,
    };
    let response = request.send().await.map_err(unreachable)?;
    let status = response.status();
    let location = response
        .headers()
        .get(reqwest_azure::header::LOCATION)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let body = response.bytes().await.map_err(unreachable)?;
    match location {
        Some(location) if status.is_redirection() => {
            Ok((status, format!("redirect to {location}").into_bytes()))
        }
        _ => Ok((status, body.to_vec())),
    }
}

async fn get_json(client: &Client, what: &'static str, url: &str) -> Result<Value, SmokeError> {
    let (status, body) = send(what, url, client.get(url)).await?;
    if !status.is_success() {
        return Err(SmokeError::Status {
            what,
            url: url.to_owned(),
            status,
            body: excerpt(&body),
        });
    }
    parse_object(what, url, &body)
}

fn parse_object(what: &'static str, url: &str, body: &[u8]) -> Result<Value, SmokeError> {
    let not_json = |source| SmokeError::NotJson {
        what,
        url: url.to_owned(),
        source,
    };
    let value: Value = serde_json::from_slice(body).map_err(not_json)?;
    if !value.is_object() {
        return Err(not_json(serde::de::Error::custom("not an object")));
    }
    Ok(value)
}

fn string_field<'a>(
    object: &'a Value,
    what: &'static str,
    url: &str,
    field: &'static str,
) -> Result<&'a str, SmokeError> {
    object
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| SmokeError::MissingField {
            what,
            url: url.to_owned(),
            field,
        })
}

/// The start of a body, for an error message.
fn excerpt(body: &[u8]) -> String {
    const LIMIT: usize = 300;
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or(text)),
        None if text.is_empty() => "(empty body)".to_owned(),
        None => text.to_owned(),
    }
}

/// RFC 6749 §4.4 with `client_secret_basic` (§2.3.1: id and secret form-encoded first).
async fn client_credentials_token(
    client: &Client,
    url: &str,
    client_id: &str,
    secret: &str,
    scope: Option<&str>,
) -> Result<String, SmokeError> {
    let encode = |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
    let encoded_id: String = encode(client_id);
    let encoded_secret: String = encode(secret);
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "client_credentials");
    if let Some(scope) = scope {
        form.append_pair("scope", scope);
    }
    let request = client
        .post(url)
        .basic_auth(encoded_id, Some(encoded_secret))
        .header(
            reqwest_azure::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(form.finish());
    let what = "token endpoint";
    let (status, body) = send(what, url, request).await?;
    if !status.is_success() {
        // RFC 6749 §5.2: `error` and maybe `error_description`; anything else is shown as is.
        let error = match serde_json::from_slice::<Value>(&body) {
            Ok(answer) if answer.get("error").is_some_and(Value::is_string) => {
                let code = answer.get("error").and_then(Value::as_str).unwrap_or("");
                match answer.get("error_description").and_then(Value::as_str) {
                    Some(description) => format!("{code}: {description}"),
                    None => code.to_owned(),
                }
            }
            _ => excerpt(&body),
        };
        return Err(SmokeError::TokenRefused {
            url: url.to_owned(),
            client_id: client_id.to_owned(),
            status,
            error,
        });
    }
    let answer = parse_object(what, url, &body)?;
    Ok(string_field(&answer, what, url, "access_token")?.to_owned())
}

/// RFC 9068 §4, as a resource server checks an access token, except the audience (that of
/// the API the client asked for, not known here). Returns the algorithm, kid and claims.
fn verify(
    token: &str,
    jwks: &JwkSet,
    issuer: &str,
) -> Result<(Algorithm, String, Value), SmokeError> {
    let header = jsonwebtoken::decode_header(token).map_err(SmokeError::NotJwt)?;
    let typ_ok = header.typ.as_deref().is_some_and(|typ| {
        typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt")
    });
    if !typ_ok {
        return Err(SmokeError::WrongType(header.typ));
    }
    let kid = header.kid.ok_or(SmokeError::NoKid)?;
    let jwk = jwks
        .find(&kid)
        .ok_or_else(|| SmokeError::UnknownKid(kid.clone()))?;
    if !key_allows(jwk, header.alg) {
        return Err(SmokeError::WrongAlgorithm {
            alg: header.alg,
            kid,
        });
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|source| SmokeError::BadKey {
        kid: kid.clone(),
        source,
    })?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss"]);
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|source| {
        SmokeError::Rejected {
            kid: kid.clone(),
            source,
        }
    })?;
    Ok((header.alg, kid, data.claims))
}

/// Never a symmetric algorithm (a public key used as an HMAC secret), and the key's own `alg`
/// where it names one; the key type itself is checked again when the signature is verified.
fn key_allows(jwk: &Jwk, alg: Algorithm) -> bool {
    if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
        return false;
    }
    match &jwk.common.key_algorithm {
        Some(declared) => declared.to_string().parse::<Algorithm>().ok() == Some(alg),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_under_the_issuer_move_to_the_url() {
        let target = Target::new(
            "https://auth.example.com/",
            Some("http://sigil.ns.svc:8080"),
        )
        .unwrap();
        assert_eq!(
            target.discovery_url(),
            "http://sigil.ns.svc:8080/.well-known/openid-configuration"
        );
        assert_eq!(
            target.endpoint("https://auth.example.com/connect/token"),
            "http://sigil.ns.svc:8080/connect/token"
        );
        // Only whole path segments: a longer host or port is not "under" the issuer.
        assert_eq!(
            target.endpoint("https://auth.example.com.evil/jwks"),
            "https://auth.example.com.evil/jwks"
        );
        assert_eq!(
            target.endpoint("https://keys.example.com/jwks"),
            "https://keys.example.com/jwks"
        );
    }

    #[test]
    fn without_a_url_the_issuer_is_fetched() {
        let target = Target::new("http://127.0.0.1:8080/tenant", None).unwrap();
        assert_eq!(
            target.discovery_url(),
            "http://127.0.0.1:8080/tenant/.well-known/openid-configuration"
        );
        assert_eq!(
            target.endpoint("http://127.0.0.1:8080/tenant/jwks"),
            "http://127.0.0.1:8080/tenant/jwks"
        );
    }

    #[test]
    fn issuers_that_are_not_http_urls_are_refused() {
        for bad in ["auth.example.com", "ftp://auth.example.com", ""] {
            assert!(
                matches!(Target::new(bad, None), Err(SmokeError::BadUrl { .. })),
                "{bad}"
            );
        }
        assert!(Target::new("https://a.example", Some("sigil:8080")).is_err());
    }

    #[test]
    fn symmetric_algorithms_and_other_declared_algorithms_are_refused() {
        let jwk: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "EC", "crv": "P-256", "kid": "k", "alg": "ES256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        }))
        .unwrap();
        assert!(key_allows(&jwk, Algorithm::ES256));
        assert!(!key_allows(&jwk, Algorithm::HS256));
        assert!(!key_allows(&jwk, Algorithm::RS256));
    }

    const ISSUER: &str = "https://auth.example.com";

    /// A fresh ES256 key: its JWKS, and a signer of tokens with the given header and claims.
    fn key() -> (
        JwkSet,
        impl Fn(jsonwebtoken::Header, Value) -> String,
        String,
    ) {
        let (key, pem) = sigil_keys::SigningKey::generate(sigil_keys::Algorithm::ES256).unwrap();
        let jwks =
            serde_json::from_value(serde_json::json!({ "keys": [key.public_jwk()] })).unwrap();
        let encoding = jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
        let sign = move |header: jsonwebtoken::Header, claims: Value| {
            jsonwebtoken::encode(&header, &claims, &encoding).unwrap()
        };
        (jwks, sign, key.kid().to_owned())
    }

    fn header(kid: &str) -> jsonwebtoken::Header {
        let mut header = jsonwebtoken::Header::new(Algorithm::ES256);
        header.typ = Some("at+jwt".to_owned());
        header.kid = Some(kid.to_owned());
        header
    }

    fn claims(iss: &str, exp_from_now: i64) -> Value {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        serde_json::json!({ "iss": iss, "sub": "c", "iat": now, "exp": now + exp_from_now })
    }

    #[test]
    fn a_token_signed_by_the_jwks_key_for_the_issuer_verifies() {
        let (jwks, sign, kid) = key();
        let token = sign(header(&kid), claims(ISSUER, 300));
        let (alg, verified_kid, claims) = verify(&token, &jwks, ISSUER).unwrap();
        assert_eq!(
            (alg, verified_kid.as_str()),
            (Algorithm::ES256, kid.as_str())
        );
        assert_eq!(claims["iss"], ISSUER);
    }

    #[test]
    fn a_token_signed_by_another_key_under_the_same_kid_is_rejected() {
        let (jwks, _, kid) = key();
        let (_, sign_other, _) = key();
        let token = sign_other(header(&kid), claims(ISSUER, 300));
        assert!(matches!(
            verify(&token, &jwks, ISSUER),
            Err(SmokeError::Rejected { .. })
        ));
    }

    #[test]
    fn another_issuer_an_expired_token_an_unknown_kid_and_a_wrong_typ_are_rejected() {
        let (jwks, sign, kid) = key();
        let wrong_issuer = sign(header(&kid), claims("https://other.example.com", 300));
        assert!(matches!(
            verify(&wrong_issuer, &jwks, ISSUER),
            Err(SmokeError::Rejected { .. })
        ));
        let expired = sign(header(&kid), claims(ISSUER, -3600));
        assert!(matches!(
            verify(&expired, &jwks, ISSUER),
            Err(SmokeError::Rejected { .. })
        ));
        let unknown = sign(header("not-published"), claims(ISSUER, 300));
        assert!(matches!(
            verify(&unknown, &jwks, ISSUER),
            Err(SmokeError::UnknownKid(kid)) if kid == "not-published"
        ));
        let mut id_token_header = header(&kid);
        id_token_header.typ = Some("JWT".to_owned());
        let id_token = sign(id_token_header, claims(ISSUER, 300));
        assert!(matches!(
            verify(&id_token, &jwks, ISSUER),
            Err(SmokeError::WrongType(Some(typ))) if typ == "JWT"
        ));
        assert!(matches!(
            verify("an-opaque-reference-token", &jwks, ISSUER),
            Err(SmokeError::NotJwt(_))
        ));
    }

    #[test]
    fn long_bodies_are_cut_short() {
        assert_eq!(excerpt(b""), "(empty body)");
        assert_eq!(excerpt(b" short \n"), "short");
        assert_eq!(excerpt("é".repeat(400).as_bytes()).chars().count(), 301);
    }
}
