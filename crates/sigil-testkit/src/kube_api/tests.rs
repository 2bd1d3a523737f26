//! The double's wire protocol, checked with a plain HTTP client.

use super::FakeKubeApi;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

const SECRETS: &str = "/api/v1/namespaces/ns/secrets";

fn data(text: &str) -> BTreeMap<String, Vec<u8>> {
    BTreeMap::from([("a.pem".to_owned(), text.as_bytes().to_vec())])
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The next newline-terminated event of a watch response.
async fn next_event(response: &mut reqwest::Response, buffer: &mut Vec<u8>) -> Option<Value> {
    loop {
        if let Some(end) = buffer.iter().position(|&byte| byte == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            return Some(serde_json::from_slice(&line).unwrap());
        }
        let chunk = tokio::time::timeout(Duration::from_secs(5), response.chunk())
            .await
            .unwrap()
            .unwrap()?;
        buffer.extend_from_slice(&chunk);
    }
}

#[tokio::test]
async fn get_answers_the_object_or_a_not_found_status() {
    let api = FakeKubeApi::start().await.unwrap();
    let http = reqwest::Client::new();
    let (code, status) = send(http.get(format!("{}{SECRETS}/keys", api.url()))).await;
    assert_eq!(
        (code, status["kind"].as_str(), status["reason"].as_str()),
        (404, Some("Status"), Some("NotFound"))
    );
    assert_eq!(status["code"], 404);

    let version = api.set_secret("ns", "keys", data("A"));
    let (code, secret) = send(http.get(format!("{}{SECRETS}/keys", api.url()))).await;
    assert_eq!(code, 200);
    assert_eq!(secret["metadata"]["resourceVersion"], version);
    assert_eq!(secret["metadata"]["namespace"], "ns");
    assert_eq!(secret["data"]["a.pem"], "QQ==");
}

#[tokio::test]
async fn list_selects_by_name_and_carries_the_resource_version() {
    let api = FakeKubeApi::start().await.unwrap();
    api.set_secret("ns", "keys", data("A"));
    api.set_secret("ns", "other", data("B"));
    api.set_secret("elsewhere", "keys", data("C"));
    let http = reqwest::Client::new();
    let url = format!(
        "{}{SECRETS}?fieldSelector=metadata.name%3Dkeys&limit=500",
        api.url()
    );
    let (code, list) = send(http.get(url)).await;
    assert_eq!(code, 200);
    assert_eq!(list["kind"], "SecretList");
    assert_eq!(list["metadata"]["resourceVersion"], "3");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["data"]["a.pem"], "QQ==");

    let url = format!("{}{SECRETS}?labelSelector=app%3Dsigil", api.url());
    assert_eq!(send(http.get(url)).await.0, 400);
}

#[tokio::test]
async fn a_watch_replays_from_its_resource_version_then_follows_and_ends_on_timeout() {
    let api = FakeKubeApi::start().await.unwrap();
    let first = api.set_secret("ns", "keys", data("A"));
    api.set_secret("ns", "keys", data("B"));
    let url = format!(
        "{}{SECRETS}?watch=1&resourceVersion={first}&fieldSelector=metadata.name%3Dkeys&allowWatchBookmarks=true&timeoutSeconds=2",
        api.url()
    );
    let mut response = reqwest::get(url).await.unwrap();
    let mut buffer = Vec::new();
    let replayed = next_event(&mut response, &mut buffer).await.unwrap();
    assert_eq!(replayed["type"], "MODIFIED");
    assert_eq!(replayed["object"]["data"]["a.pem"], "Qg==");

    api.set_secret("ns", "other", data("ignored"));
    assert!(api.delete_secret("ns", "keys"));
    let deleted = next_event(&mut response, &mut buffer).await.unwrap();
    assert_eq!(deleted["type"], "DELETED");
    assert_eq!(deleted["object"]["metadata"]["resourceVersion"], "4");

    let bookmark = next_event(&mut response, &mut buffer).await.unwrap();
    assert_eq!(bookmark["type"], "BOOKMARK");
    assert_eq!(bookmark["object"]["metadata"]["resourceVersion"], "4");
    // Bookmarks until the two seconds are up, then the response ends.
    while next_event(&mut response, &mut buffer).await.is_some() {}
}

#[tokio::test]
async fn replace_checks_the_resource_version_and_create_refuses_a_taken_name() {
    let api = FakeKubeApi::start().await.unwrap();
    let http = reqwest::Client::new();
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": { "name": "keys" },
        "stringData": { "a.pem": "A" },
    });
    let (code, created) = send(http.post(format!("{}{SECRETS}", api.url())).json(&secret)).await;
    assert_eq!(code, 201);
    assert_eq!(created["data"]["a.pem"], "QQ==");
    assert!(created.get("stringData").is_none());
    let (code, status) = send(http.post(format!("{}{SECRETS}", api.url())).json(&secret)).await;
    assert_eq!(
        (code, status["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );

    let mut update = created.clone();
    update["data"]["a.pem"] = "Qg==".into();
    let (code, replaced) = send(
        http.put(format!("{}{SECRETS}/keys", api.url()))
            .json(&update),
    )
    .await;
    assert_eq!(code, 200);
    assert_ne!(
        replaced["metadata"]["resourceVersion"],
        created["metadata"]["resourceVersion"]
    );
    assert_eq!(replaced["metadata"]["uid"], created["metadata"]["uid"]);

    // `update` still carries the old resourceVersion.
    let (code, status) = send(
        http.put(format!("{}{SECRETS}/keys", api.url()))
            .json(&update),
    )
    .await;
    assert_eq!((code, status["reason"].as_str()), (409, Some("Conflict")));
    assert_eq!(api.secret_data("ns", "keys").unwrap(), data("B"));
}

#[tokio::test]
async fn an_outage_closes_connections_until_it_ends() {
    let api = FakeKubeApi::start().await.unwrap();
    api.set_secret("ns", "keys", data("A"));
    let watch = format!("{}{SECRETS}?watch=true", api.url());
    let mut response = reqwest::get(watch).await.unwrap();
    let mut buffer = Vec::new();
    assert_eq!(
        next_event(&mut response, &mut buffer).await.unwrap()["type"],
        "ADDED"
    );

    api.set_available(false);
    assert!(response.chunk().await.is_err(), "the open watch is cut");
    let get = format!("{}{SECRETS}/keys", api.url());
    assert!(reqwest::get(&get).await.is_err());

    api.set_available(true);
    assert_eq!(reqwest::get(&get).await.unwrap().status(), 200);
    let paths: Vec<_> = api
        .requests()
        .into_iter()
        .map(|request| request.path)
        .collect();
    assert_eq!(paths, [SECRETS, "/api/v1/namespaces/ns/secrets/keys"]);
}
