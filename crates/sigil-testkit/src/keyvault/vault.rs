//! The vault side of the double: Key Vault's REST protocol for the operations Sigil uses —
//! certificate, key and secret version lists (paged with `nextLink`), get of one version, and
//! `sign` — behind the bearer challenge the SDK's authorization policy answers.

use super::VAULT_RESOURCE;
use super::crypto::BadSignRequest;
use super::server::{Call, Reply, error, json_reply};
use super::state::{
    CertificateVersion, KeyVersion, SecretVersion, Shared, Vault, Version, Versioned,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

/// Versions per list page unless the client asks for fewer (`maxresults`). Small, so that a
/// test with three versions sees a `nextLink`.
const PAGE_SIZE: usize = 2;

/// What an operation answers: `Err` is a refusal, already shaped as Key Vault's error reply
/// (boxed, as replies are large).
type Outcome = Result<Reply, Refusal>;

/// An error reply that ends an operation early.
type Refusal = Box<Reply>;

/// Routes an authenticated vault call; answers the bearer challenge otherwise.
pub(super) fn handle(shared: &Shared, call: &Call) -> Reply {
    shared.vault_requests.fetch_add(1, Ordering::SeqCst);
    let Some(api_version) = call.query.get("api-version") else {
        return error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            "The api-version query parameter is required.",
        );
    };
    *shared
        .last_api_version
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(api_version.clone());
    if !authorized(shared, call) {
        return challenge(shared);
    }
    route(shared, call).unwrap_or_else(|refusal| *refusal)
}

/// Answers an authorized call by its method and path.
fn route(shared: &Shared, call: &Call) -> Outcome {
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    match (&call.method, segments.as_slice()) {
        (&Method::GET, ["certificates", name, "versions"]) => list_certificates(shared, call, name),
        (&Method::GET, ["certificates", name, version]) => get_certificate(shared, name, version),
        (&Method::GET, ["keys", name, "versions"]) => list_keys(shared, call, name),
        (&Method::GET, ["keys", name, version]) => get_key(shared, name, version),
        (&Method::POST, ["keys", name, version, "sign"]) => sign(shared, call, name, version),
        (&Method::GET, ["secrets", name, "versions"]) => list_secrets(shared, call, name),
        (&Method::GET, ["secrets", name, version]) => get_secret(shared, name, version),
        _ => Err(error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "The Key Vault double does not implement this operation.",
        )
        .into()),
    }
}

fn authorized(shared: &Shared, call: &Call) -> bool {
    let Some(token) = call
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
    else {
        return false;
    };
    shared.directory().issued.contains(token)
}

/// 401 with the challenge real Key Vault sends: where to authenticate and for which resource.
fn challenge(shared: &Shared) -> Reply {
    shared.challenges.fetch_add(1, Ordering::SeqCst);
    // The authority host is the double itself: Entra ID's endpoints live on the same server.
    let authority = format!("{}/{}", shared.base, shared.tenant);
    let mut reply = error(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "AKV10000: Request is missing a Bearer or PoP token.",
    );
    if let Ok(value) = hyper::header::HeaderValue::from_str(&format!(
        r#"Bearer authorization="{authority}", resource="{VAULT_RESOURCE}""#
    )) {
        reply
            .headers_mut()
            .insert(hyper::header::WWW_AUTHENTICATE, value);
    }
    reply
}

fn attributes(version: &Version, exportable: Option<bool>) -> Value {
    let spec = &version.spec;
    let mut attributes = json!({
        "enabled": spec.enabled,
        "created": spec.created,
        "updated": spec.created,
        "recoveryLevel": "Recoverable+Purgeable",
        "recoverableDays": 90,
    });
    if let Some(members) = attributes.as_object_mut() {
        if let Some(nbf) = spec.not_before {
            members.insert("nbf".into(), nbf.into());
        }
        if let Some(exp) = spec.expires {
            members.insert("exp".into(), exp.into());
        }
        if let Some(exportable) = exportable {
            members.insert("exportable".into(), exportable.into());
        }
    }
    attributes
}

/// One page of `items`, with `nextLink` when more follow.
fn page(shared: &Shared, call: &Call, collection: &str, name: &str, items: Vec<Value>) -> Reply {
    let skip: usize = call
        .query
        .get("$skiptoken")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let size = call
        .query
        .get("maxresults")
        .and_then(|s| s.parse().ok())
        .filter(|&n: &usize| n > 0)
        .map_or(PAGE_SIZE, |n| n.min(PAGE_SIZE));
    let total = items.len();
    let value: Vec<Value> = items.into_iter().skip(skip).take(size).collect();
    let next = skip + size;
    let next_link = (next < total).then(|| {
        format!(
            "{}/{collection}/{name}/versions?api-version={}&$skiptoken={next}&maxresults={size}",
            shared.base,
            call.query
                .get("api-version")
                .map(String::as_str)
                .unwrap_or_default(),
        )
    });
    json_reply(
        StatusCode::OK,
        &json!({ "value": value, "nextLink": next_link }),
    )
}

fn not_found(kind: &str, name: &str, version: &str) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        &format!("{kind}NotFound"),
        &format!(
            "A {} with (name/id) {name} (version {version}) was not found in this key vault.",
            kind.to_lowercase()
        ),
    )
}

fn disabled(operation: &str, kind: &str) -> Reply {
    error(
        StatusCode::FORBIDDEN,
        "Forbidden",
        &format!("Operation {operation} is not allowed on a disabled {kind}."),
    )
}

/// One page of `name`'s versions, each described by `item`; 404 when there is no such object.
fn list<T: Versioned>(
    shared: &Shared,
    call: &Call,
    name: &str,
    item: impl Fn(&T) -> Value,
) -> Outcome {
    let items = {
        let vault = shared.vault();
        let Some(versions) = T::all(&vault).get(name) else {
            return Err(not_found(T::KIND, name, "").into());
        };
        versions.iter().map(item).collect()
    };
    Ok(page(shared, call, T::COLLECTION, name, items))
}

/// The version of `name` asked for, or the newest when the path has none; 404 when there is
/// no such object or version.
fn find<'a, T: Versioned>(vault: &'a Vault, name: &str, version: &str) -> Result<&'a T, Refusal> {
    let versions = T::all(vault).get(name);
    let found = if version.is_empty() {
        versions.and_then(|vs| vs.last())
    } else {
        versions.and_then(|vs| vs.iter().find(|v| v.version().id == version))
    };
    found.ok_or_else(|| not_found(T::KIND, name, version).into())
}

/// As [`find`], but a disabled version refuses `operation` with a 403.
fn find_enabled<'a, T: Versioned>(
    vault: &'a Vault,
    name: &str,
    version: &str,
    operation: &str,
) -> Result<&'a T, Refusal> {
    let found: &T = find(vault, name, version)?;
    if !found.version().spec.enabled {
        return Err(disabled(operation, &T::KIND.to_lowercase()).into());
    }
    Ok(found)
}

fn x5t(der: &[u8]) -> String {
    let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    URL_SAFE_NO_PAD.encode(sha1.as_ref())
}

fn list_certificates(shared: &Shared, call: &Call, name: &str) -> Outcome {
    list(shared, call, name, |c: &CertificateVersion| {
        json!({
            "id": format!("{}/certificates/{name}/{}", shared.base, c.version.id),
            "x5t": x5t(&c.der),
            "attributes": attributes(&c.version, None),
        })
    })
}

fn get_certificate(shared: &Shared, name: &str, version: &str) -> Outcome {
    let vault = shared.vault();
    let c: &CertificateVersion = find(&vault, name, version)?;
    let id = &c.version.id;
    Ok(json_reply(
        StatusCode::OK,
        &json!({
            "id": format!("{}/certificates/{name}/{id}", shared.base),
            "kid": format!("{}/keys/{name}/{id}", shared.base),
            "sid": format!("{}/secrets/{name}/{id}", shared.base),
            "x5t": x5t(&c.der),
            "cer": STANDARD.encode(&c.der),
            "attributes": attributes(&c.version, None),
        }),
    ))
}

fn list_keys(shared: &Shared, call: &Call, name: &str) -> Outcome {
    list(shared, call, name, |k: &KeyVersion| {
        json!({
            "kid": format!("{}/keys/{name}/{}", shared.base, k.version.id),
            "attributes": attributes(&k.version, Some(false)),
            "managed": k.managed.then_some(true),
        })
    })
}

fn get_key(shared: &Shared, name: &str, version: &str) -> Outcome {
    let vault = shared.vault();
    let k: &KeyVersion = find_enabled(&vault, name, version, "get")?;
    let mut jwk = k.material.public_jwk().clone();
    if let Some(members) = jwk.as_object_mut() {
        members.insert(
            "kid".into(),
            format!("{}/keys/{name}/{}", shared.base, k.version.id).into(),
        );
        members.insert("key_ops".into(), json!(["sign", "verify"]));
    }
    Ok(json_reply(
        StatusCode::OK,
        &json!({
            "key": jwk,
            "attributes": attributes(&k.version, Some(false)),
            "managed": k.managed.then_some(true),
        }),
    ))
}

fn sign(shared: &Shared, call: &Call, name: &str, version: &str) -> Outcome {
    shared.sign_calls.fetch_add(1, Ordering::SeqCst);
    let Ok(request) = serde_json::from_slice::<Value>(&call.body) else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            "The request body is not JSON.",
        )
        .into());
    };
    let alg = request
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(digest) = request
        .get("value")
        .and_then(Value::as_str)
        .and_then(|v| URL_SAFE_NO_PAD.decode(v.trim_end_matches('=')).ok())
    else {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "BadParameter",
            "The value parameter is missing or not base64url.",
        )
        .into());
    };
    let material = {
        let vault = shared.vault();
        let k: &KeyVersion = find_enabled(&vault, name, version, "sign")?;
        k.material.clone()
    };
    match material.sign_digest(alg, &digest) {
        Ok(signature) => Ok(json_reply(
            StatusCode::OK,
            &json!({
                "kid": format!("{}/keys/{name}/{version}", shared.base),
                "value": URL_SAFE_NO_PAD.encode(signature),
            }),
        )),
        Err(BadSignRequest(message)) => {
            Err(error(StatusCode::BAD_REQUEST, "BadParameter", &message).into())
        }
    }
}

fn list_secrets(shared: &Shared, call: &Call, name: &str) -> Outcome {
    list(shared, call, name, |s: &SecretVersion| {
        json!({
            "id": format!("{}/secrets/{name}/{}", shared.base, s.version.id),
            "contentType": s.content_type,
            "attributes": attributes(&s.version, None),
            "managed": s.managed.then_some(true),
        })
    })
}

fn get_secret(shared: &Shared, name: &str, version: &str) -> Outcome {
    let vault = shared.vault();
    let s: &SecretVersion = find_enabled(&vault, name, version, "get")?;
    let id = &s.version.id;
    Ok(json_reply(
        StatusCode::OK,
        &json!({
            "id": format!("{}/secrets/{name}/{id}", shared.base),
            "value": s.value,
            "contentType": s.content_type,
            "attributes": attributes(&s.version, None),
            "managed": s.managed.then_some(true),
            "kid": s.managed.then(|| format!("{}/keys/{name}/{id}", shared.base)),
        }),
    ))
}
