//! Malformed requests get a clear 4xx with an OAuth error body — never a 500, never a hang.

use sigil_e2e::{CLIENT_SECRET, config};
use sigil_testkit::SigilDev;
use sigil_testkit::client::{answer, basic};

async fn send(
    sigil: &SigilDev,
    path: &str,
    content_type: Option<&str>,
    authorization: Option<&str>,
    body: Vec<u8>,
) -> sigil_testkit::client::Answer {
    let mut request = reqwest::Client::new().post(sigil.url(path)).body(body);
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    answer(request.send().await.unwrap()).await.unwrap()
}

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

#[tokio::test]
async fn malformed_token_requests_are_invalid_request() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    let auth = basic("jwt-client", CLIENT_SECRET);
    let cases: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
        (
            "json body",
            Some("application/json"),
            br#"{"grant_type":"client_credentials"}"#.to_vec(),
        ),
        (
            "no content type",
            None,
            b"grant_type=client_credentials".to_vec(),
        ),
        (
            "multipart",
            Some("multipart/form-data; boundary=x"),
            b"--x--".to_vec(),
        ),
        (
            "duplicate grant_type",
            FORM,
            b"grant_type=client_credentials&grant_type=client_credentials".to_vec(),
        ),
        (
            "duplicate scope",
            FORM,
            b"grant_type=client_credentials&scope=orders.read&scope=orders.read".to_vec(),
        ),
        (
            "non-UTF-8 raw",
            FORM,
            b"grant_type=client_credentials&scope=\xff\xfe".to_vec(),
        ),
        (
            "non-UTF-8 escaped",
            FORM,
            b"grant_type=client_credentials&scope=%ff%fe".to_vec(),
        ),
        ("bad escape", FORM, b"grant_type=client%zz".to_vec()),
        (
            "truncated escape",
            FORM,
            b"grant_type=client_credentials%2".to_vec(),
        ),
        (
            "too many parameters",
            FORM,
            (0..100)
                .map(|i| format!("p{i}=v"))
                .collect::<Vec<_>>()
                .join("&")
                .into_bytes(),
        ),
    ];
    for (case, content_type, body) in cases {
        let answer = send(&sigil, "/connect/token", content_type, Some(&auth), body).await;
        assert_eq!(answer.status, 400, "{case}: {:?}", answer.body);
        assert_eq!(answer.body["error"], "invalid_request", "{case}");
    }
}

#[tokio::test]
async fn oversized_bodies_are_413_on_every_form_endpoint() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    let huge = format!(
        "grant_type=client_credentials&scope={}",
        "a".repeat(200 * 1024)
    )
    .into_bytes();
    for path in [
        "/connect/token",
        "/connect/introspect",
        "/connect/revocation",
    ] {
        let answer = send(&sigil, path, FORM, None, huge.clone()).await;
        assert_eq!(answer.status, 413, "{path}");
        assert_eq!(answer.body["error"], "invalid_request", "{path}");
    }
    // Chunked (no Content-Length) is cut off the same way.
    let stream = futures_stream(huge);
    let response = reqwest::Client::new()
        .post(sigil.url("/connect/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await;
    if let Ok(response) = response {
        assert_eq!(response.status(), 413);
    }
    // The server is still healthy afterwards.
    assert_eq!(
        reqwest::get(sigil.url("/healthz")).await.unwrap().status(),
        200
    );
}

/// The body in 8 KiB chunks, sent without a Content-Length.
fn futures_stream(body: Vec<u8>) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let chunks: Vec<Vec<u8>> = body.chunks(8 * 1024).map(<[u8]>::to_vec).collect();
    futures::stream::iter(chunks.into_iter().map(Ok))
}

#[tokio::test]
async fn malformed_credentials_are_invalid_client_or_request() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    let grant = b"grant_type=client_credentials".to_vec();
    for header in ["Basic !!!not-base64", "Basic", "Bearer abc", "Basic Zm9v"] {
        let answer = send(&sigil, "/connect/token", FORM, Some(header), grant.clone()).await;
        assert_eq!(answer.status, 401, "{header}: {:?}", answer.body);
        assert_eq!(answer.body["error"], "invalid_client");
    }
    // Two methods at once.
    let both =
        format!("grant_type=client_credentials&client_id=jwt-client&client_secret={CLIENT_SECRET}");
    let answer = send(
        &sigil,
        "/connect/token",
        FORM,
        Some(&basic("jwt-client", CLIENT_SECRET)),
        both.into_bytes(),
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"], "invalid_request");
    // Non-ASCII bytes in the header.
    let response = reqwest::Client::new()
        .post(sigil.url("/connect/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Basic \xff\xfe").unwrap(),
        )
        .body(grant)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn garbage_tokens_at_introspection_and_revocation() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    let auth = basic("jwt-client", CLIENT_SECRET);
    let long = "x".repeat(40_000);
    for token in [
        "",
        "a.b.c",
        "a..",
        "....",
        "eyJhbGciOiJub25lIn0.e30.",
        long.as_str(),
        "\u{1F600}",
    ] {
        let body = sigil_testkit::client::form(&[("token", token)]).into_bytes();
        let introspected = send(
            &sigil,
            "/connect/introspect",
            FORM,
            Some(&auth),
            body.clone(),
        )
        .await;
        let revoked = send(&sigil, "/connect/revocation", FORM, Some(&auth), body).await;
        if token.is_empty() {
            assert_eq!(introspected.status, 400);
            assert_eq!(revoked.status, 400);
        } else {
            assert_eq!(introspected.status, 200, "{token}");
            assert_eq!(introspected.body, serde_json::json!({ "active": false }));
            assert_eq!(revoked.status, 200, "{token}");
        }
    }
}
