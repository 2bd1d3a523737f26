//! The REST routes of core/v1 Secrets: get, list, watch, create and replace, as the API
//! server answers them (JSON bodies, `Status` objects for errors).

use super::Shared;
use super::status::Status;
use super::store::{Selection, resource_version_of};
use super::watch::{WatchParams, watch_response};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use std::sync::Arc;

type Answer = Result<Response, Status>;

/// The routes, with `shared` as their state.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/api/v1/namespaces/{namespace}/secrets",
            get(list_or_watch).post(create),
        )
        .route(
            "/api/v1/namespaces/{namespace}/secrets/{name}",
            get(read).put(replace),
        )
        .fallback(|| async { Status::no_route() })
        .with_state(shared)
}

async fn read(
    State(shared): State<Arc<Shared>>,
    Path((namespace, name)): Path<(String, String)>,
) -> Answer {
    match shared.store.get(&(namespace, name.clone())) {
        Some(object) => Ok(Json(object).into_response()),
        None => Err(Status::not_found(&name)),
    }
}

async fn list_or_watch(
    State(shared): State<Arc<Shared>>,
    Path(namespace): Path<String>,
    RawQuery(query): RawQuery,
) -> Answer {
    let query = Query::parse(query.as_deref());
    let selection = query.selection(namespace)?;
    if query.flag("watch") {
        let params = WatchParams {
            selection,
            resource_version: query.get("resourceVersion").map(str::to_owned),
            bookmarks: query.flag("allowWatchBookmarks"),
            timeout_seconds: query
                .get("timeoutSeconds")
                .and_then(|value| value.parse().ok()),
        };
        if query.flag("sendInitialEvents") {
            return Err(Status::bad_request(
                "sendInitialEvents is not supported by this double",
            ));
        }
        return Ok(watch_response(&shared, params));
    }
    let (items, resource_version) = shared.store.list(&selection);
    Ok(Json(json!({
        "kind": "SecretList",
        "apiVersion": "v1",
        "metadata": { "resourceVersion": resource_version.to_string() },
        "items": items,
    }))
    .into_response())
}

async fn create(
    State(shared): State<Arc<Shared>>,
    Path(namespace): Path<String>,
    body: Bytes,
) -> Answer {
    let object = secret_from_body(&body, &namespace, None)?;
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let created = shared.store.create((namespace, name), object)?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

async fn replace(
    State(shared): State<Arc<Shared>>,
    Path((namespace, name)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    let object = secret_from_body(&body, &namespace, Some(&name))?;
    let expected = resource_version_of(&object)
        .filter(|version| !version.is_empty())
        .map(str::to_owned);
    let replaced = shared
        .store
        .replace((namespace, name), object, expected.as_deref())?;
    Ok(Json(replaced).into_response())
}

/// Checks a Secret sent by a client and normalizes it as the API server stores it:
/// `stringData` merged into `data`, `type` defaulted to `Opaque`.
fn secret_from_body(
    body: &[u8],
    namespace: &str,
    path_name: Option<&str>,
) -> Result<Value, Status> {
    let mut object: Value = serde_json::from_slice(body)
        .map_err(|error| Status::bad_request(format!("invalid JSON body: {error}")))?;
    let root = object
        .as_object_mut()
        .ok_or_else(|| Status::bad_request("the body is not a JSON object"))?;
    if root.get("kind").is_some_and(|kind| kind != "Secret") {
        return Err(Status::bad_request("kind must be Secret"));
    }
    let name = root
        .get("metadata")
        .and_then(|metadata| metadata.get("name"))
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .ok_or_else(|| Status::bad_request("metadata.name: Required value"))?;
    if path_name.is_some_and(|path_name| path_name != name) {
        return Err(Status::bad_request(
            "the name of the object does not match the name on the URL",
        ));
    }
    let body_namespace = root
        .get("metadata")
        .and_then(|metadata| metadata.get("namespace"))
        .and_then(Value::as_str);
    if body_namespace.is_some_and(|body_namespace| body_namespace != namespace) {
        return Err(Status::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    let mut data = match root.remove("data") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(data)) => data,
        Some(_) => return Err(Status::bad_request("data must be an object")),
    };
    for (key, value) in &data {
        let valid = value
            .as_str()
            .is_some_and(|text| STANDARD.decode(text).is_ok());
        if !valid {
            return Err(Status::bad_request(format!("data[{key}]: not base64")));
        }
    }
    match root.remove("stringData") {
        None | Some(Value::Null) => {}
        Some(Value::Object(strings)) => {
            for (key, value) in strings {
                let text = value.as_str().ok_or_else(|| {
                    Status::bad_request(format!("stringData[{key}]: not a string"))
                })?;
                data.insert(key, STANDARD.encode(text).into());
            }
        }
        Some(_) => return Err(Status::bad_request("stringData must be an object")),
    }
    root.insert("kind".to_owned(), "Secret".into());
    root.insert("apiVersion".to_owned(), "v1".into());
    root.insert("data".to_owned(), Value::Object(data));
    root.entry("type").or_insert_with(|| "Opaque".into());
    Ok(object)
}

/// A JSON response.
struct Json(Value);

impl IntoResponse for Json {
    fn into_response(self) -> Response {
        let body = Body::from(self.0.to_string());
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}

/// The query string of a request.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Self {
        let pairs = form_urlencoded::parse(raw.unwrap_or_default().as_bytes());
        Self(pairs.into_owned().collect())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// `1` or `true`, as the API server reads boolean parameters.
    fn flag(&self, name: &str) -> bool {
        matches!(self.get(name), Some("1" | "true"))
    }

    /// The namespace and the `metadata.name` of a `fieldSelector`, the only field this
    /// double selects on; label selectors are refused rather than ignored.
    fn selection(&self, namespace: String) -> Result<Selection, Status> {
        if self
            .get("labelSelector")
            .is_some_and(|labels| !labels.is_empty())
        {
            return Err(Status::bad_request(
                "labelSelector is not supported by this double",
            ));
        }
        let mut selection = Selection {
            namespace,
            name: None,
        };
        let fields = self.get("fieldSelector").unwrap_or_default();
        for term in fields.split(',').filter(|term| !term.is_empty()) {
            let (field, value) = term
                .split_once("==")
                .or_else(|| term.split_once('='))
                .ok_or_else(|| Status::bad_request(format!("invalid field selector: {term}")))?;
            match field {
                "metadata.name" => selection.name = Some(value.to_owned()),
                "metadata.namespace" if value == selection.namespace => {}
                // Another namespace than the path's: nothing matches (no object has an empty name).
                "metadata.namespace" => selection.name = Some(String::new()),
                _ => {
                    return Err(Status::bad_request(format!(
                        "field label not supported: {field}"
                    )));
                }
            }
        }
        Ok(selection)
    }
}
