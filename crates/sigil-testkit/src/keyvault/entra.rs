//! Entra ID's side of the double: the v2.0 token endpoint (client secret, and client assertion
//! as workload identity sends it) and the App Service managed identity endpoint. Both issue
//! opaque access tokens that the vault side then accepts.

use super::VAULT_RESOURCE;
use super::server::{Call, Reply, json_reply};
use super::state::Shared;
use hyper::StatusCode;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const TOKEN_LIFETIME_SECS: u64 = 3599;

/// `POST /{tenant}/oauth2/v2.0/token`, `grant_type=client_credentials`.
pub(super) fn token(shared: &Shared, tenant: &str, call: &Call) -> Reply {
    shared.token_requests.fetch_add(1, Ordering::SeqCst);
    let form: HashMap<String, String> = form_urlencoded::parse(&call.body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if tenant != shared.tenant {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!("AADSTS90002: Tenant '{tenant}' not found."),
        );
    }
    if field("grant_type") != "client_credentials" {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "AADSTS70003: The app requested an unsupported grant type.",
        );
    }
    let wanted_scope = format!("{VAULT_RESOURCE}/.default");
    if field("scope") != wanted_scope {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            "AADSTS70011: The provided value for scope is not valid.",
        );
    }
    let client_id = field("client_id");
    let mut directory = shared.directory();
    let accepted = if let Some(secret) = form.get("client_secret") {
        directory.client_secrets.get(client_id) == Some(secret)
    } else if field("client_assertion_type") == ASSERTION_TYPE {
        directory
            .federated_tokens
            .get(client_id)
            .map(String::as_str)
            == Some(field("client_assertion"))
    } else {
        false
    };
    if !accepted {
        return entra_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "AADSTS7000215: Invalid client secret or assertion provided.",
        );
    }
    let access_token = Shared::new_access_token();
    directory.issued.insert(access_token.clone());
    json_reply(
        StatusCode::OK,
        &json!({
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_SECS,
            "ext_expires_in": TOKEN_LIFETIME_SECS,
            "access_token": access_token,
        }),
    )
}

/// `GET /msi/token?api-version=2019-08-01&resource=...`, the App Service managed identity
/// protocol that `IDENTITY_ENDPOINT` / `IDENTITY_HEADER` point the SDK at.
pub(super) fn managed_identity(shared: &Shared, call: &Call) -> Reply {
    shared.token_requests.fetch_add(1, Ordering::SeqCst);
    if call.header("x-identity-header") != Some(shared.identity_header.as_str()) {
        return json_reply(
            StatusCode::UNAUTHORIZED,
            &json!({ "statusCode": 401, "message": "missing or wrong X-IDENTITY-HEADER" }),
        );
    }
    if call.query.get("resource").map(String::as_str) != Some(VAULT_RESOURCE) {
        return json_reply(
            StatusCode::BAD_REQUEST,
            &json!({ "statusCode": 400, "message": "unexpected resource" }),
        );
    }
    let mut directory = shared.directory();
    directory.last_managed_identity = ["client_id", "object_id", "msi_res_id"]
        .into_iter()
        .find_map(|kind| Some((kind.to_owned(), call.query.get(kind)?.clone())));
    let access_token = Shared::new_access_token();
    directory.issued.insert(access_token.clone());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    json_reply(
        StatusCode::OK,
        &json!({
            "access_token": access_token,
            "expires_on": (now + TOKEN_LIFETIME_SECS).to_string(),
            "resource": VAULT_RESOURCE,
            "token_type": "Bearer",
        }),
    )
}

fn entra_error(status: StatusCode, error: &str, code: u32, description: &str) -> Reply {
    json_reply(
        status,
        &json!({
            "error": error,
            "error_description": description,
            "error_codes": [code],
        }),
    )
}
