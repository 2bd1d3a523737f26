//! `Status` objects: how the API server reports a failed request, with the HTTP code in
//! both the response and the body.

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A failed request, answered as a `kind: Status` object.
#[derive(Debug, Clone)]
pub(crate) struct Status {
    code: StatusCode,
    reason: &'static str,
    message: String,
    name: Option<String>,
}

impl Status {
    fn new(code: StatusCode, reason: &'static str, message: String, name: Option<&str>) -> Self {
        Self {
            code,
            reason,
            message,
            name: name.map(str::to_owned),
        }
    }

    pub(crate) fn not_found(name: &str) -> Self {
        let message = format!("secrets \"{name}\" not found");
        Self::new(StatusCode::NOT_FOUND, "NotFound", message, Some(name))
    }

    pub(crate) fn already_exists(name: &str) -> Self {
        let message = format!("secrets \"{name}\" already exists");
        Self::new(StatusCode::CONFLICT, "AlreadyExists", message, Some(name))
    }

    pub(crate) fn conflict(name: &str) -> Self {
        let message = format!(
            "Operation cannot be fulfilled on secrets \"{name}\": the object has been modified; \
             please apply your changes to the latest version and try again"
        );
        Self::new(StatusCode::CONFLICT, "Conflict", message, Some(name))
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message.into(), None)
    }

    /// A path this double does not serve.
    pub(crate) fn no_route() -> Self {
        let message = "the server could not find the requested resource".to_owned();
        Self::new(StatusCode::NOT_FOUND, "NotFound", message, None)
    }

    /// The `kind: Status` object.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut details = json!({ "kind": "secrets" });
        if let (Some(name), Some(members)) = (&self.name, details.as_object_mut()) {
            members.insert("name".to_owned(), name.clone().into());
        }
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": details,
            "code": self.code.as_u16(),
        })
    }
}

impl IntoResponse for Status {
    fn into_response(self) -> Response {
        let body = Body::from(self.to_json().to_string());
        (
            self.code,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}
