//! Malformed requests get a clear 4xx with an OAuth error body — never a 500, never a hang.

use sigil_e2e::{CLIENT_SECRET, config, issue_token};
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

const GET_ONLY: [&str; 6] = [
    "/healthz",
    "/readyz",
    "/metrics",
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
    "/.well-known/jwks.json",
];

#[tokio::test]
async fn wrong_methods_are_405_with_allow_and_head_works_where_get_does() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let header = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    for path in GET_ONLY {
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            let response = client
                .request(method.parse().unwrap(), sigil.url(path))
                .send()
                .await
                .unwrap();
            // RFC 9110 §15.5.6: 405 names the methods the resource does support.
            assert_eq!(response.status(), 405, "{method} {path}");
            assert_eq!(
                header(&response, "allow").as_deref(),
                Some("GET, HEAD"),
                "{method} {path}"
            );
        }
        let head = client.head(sigil.url(path)).send().await.unwrap();
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path}");
    }
    for path in [
        "/connect/token",
        "/connect/introspect",
        "/connect/revocation",
    ] {
        let response = client.get(sigil.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 405, "GET {path}");
        assert_eq!(header(&response, "allow").as_deref(), Some("POST"));
    }
    let unknown = client.get(sigil.url("/nothing-here")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn every_response_tells_browsers_not_to_sniff() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let token = |authorization: String, body: Vec<u8>| {
        client
            .post(sigil.url("/connect/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("authorization", authorization)
            .body(body)
    };
    let requests = [
        (
            "issued",
            token(
                basic("jwt-client", CLIENT_SECRET),
                b"grant_type=client_credentials".to_vec(),
            ),
        ),
        (
            "401",
            token(
                basic("jwt-client", "wrong"),
                b"grant_type=client_credentials".to_vec(),
            ),
        ),
        (
            "413",
            token(basic("jwt-client", CLIENT_SECRET), vec![b'a'; 100 * 1024]),
        ),
        ("404", client.get(sigil.url("/nothing-here"))),
        ("405", client.delete(sigil.url("/healthz"))),
        ("healthz", client.get(sigil.url("/healthz"))),
        ("metrics", client.get(sigil.url("/metrics"))),
        ("jwks", client.get(sigil.url("/.well-known/jwks.json"))),
        ("login page", client.get(sigil.url("/account/login"))),
        ("bad query", client.get(sigil.url("/connect/authorize?%zz"))),
    ];
    for (case, request) in requests {
        let response = request.send().await.unwrap();
        assert_eq!(
            response
                .headers()
                .get("x-content-type-options")
                .and_then(|value| value.to_str().ok()),
            Some("nosniff"),
            "{case}: {}",
            response.status()
        );
    }
}

/// Opens a connection, sends `head` and then one byte every 500 ms (until the server stops
/// reading); returns how long the server took to answer, the answer's status line (empty if
/// it closed without one), and how long until it closed the connection.
async fn trickle(
    address: &str,
    head: String,
) -> (std::time::Duration, String, std::time::Duration) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let started = std::time::Instant::now();
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let trickler = tokio::spawn(async move {
        if writer.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            if writer.write_all(b"a").await.is_err() {
                return;
            }
        }
    });
    let mut received = Vec::new();
    let mut answered = None;
    let mut buffer = [0u8; 1024];
    let closed = loop {
        let read =
            tokio::time::timeout(std::time::Duration::from_secs(30), reader.read(&mut buffer))
                .await
                .unwrap_or_else(|_| panic!("nothing from the server for 30 s"));
        match read {
            Ok(0) | Err(_) => break started.elapsed(),
            Ok(n) => {
                answered.get_or_insert_with(|| started.elapsed());
                received.extend_from_slice(&buffer[..n]);
            }
        }
    };
    trickler.abort();
    let text = String::from_utf8_lossy(&received);
    let status_line = text.lines().next().unwrap_or_default().to_owned();
    (answered.unwrap_or(closed), status_line, closed)
}

fn slow_post(path: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: sigil.test\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\ng"
    )
}

#[tokio::test]
async fn a_trickled_body_gets_408_within_the_deadline_and_holds_nothing() {
    use std::time::Duration;
    let text = format!(
        "{}\nserver: {{ connections: {{ body_timeout: 2s, header_timeout: 2s }} }}\n",
        config("tokens.yaml", &[])
    );
    let sigil = SigilDev::start(Some(&text)).await.unwrap();
    let address = sigil.base_url.trim_start_matches("http://").to_owned();

    // Every endpoint that reads a form, many connections each.
    let form_paths = [
        "/connect/token",
        "/connect/introspect",
        "/connect/revocation",
        "/connect/authorize",
        "/connect/endsession",
        "/account/login",
        "/account/consent",
    ];
    let mut slow = Vec::new();
    for round in 0..20 {
        for path in form_paths {
            let address = address.clone();
            slow.push(tokio::spawn(async move {
                (path, round, trickle(&address, slow_post(path)).await)
            }));
        }
    }
    // Slow headers, and bodies sent to routes that do not read them.
    let slow_head = "POST /connect/token HTTP/1.1\r\nHost: sigil.test\r\nX-Slow: ".to_owned();
    for (path, head) in [
        ("slow headers", slow_head),
        ("unknown path", slow_post("/nothing-here")),
        ("GET-only path", slow_post("/healthz")),
    ] {
        let address = address.clone();
        slow.push(tokio::spawn(async move {
            (path, 0, trickle(&address, head).await)
        }));
    }

    // While they are open, normal requests are served.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for _ in 0..5 {
        issue_token(&sigil, "jwt-client").await;
    }

    for connection in slow {
        let (path, round, (answered, status_line, closed)) = connection.await.unwrap();
        let case =
            format!("{path} #{round}: {status_line:?} after {answered:?}, closed after {closed:?}");
        // Deadline 2 s; generous margins for a loaded machine.
        assert!(answered < Duration::from_secs(8), "{case}");
        assert!(closed < Duration::from_secs(12), "{case}");
        if form_paths.contains(&path) || path == "slow headers" {
            // RFC 9110 §15.5.9: the server would not wait any longer for the request.
            assert!(status_line.starts_with("HTTP/1.1 408"), "{case}");
        }
    }
    assert_eq!(
        reqwest::get(sigil.url("/healthz")).await.unwrap().status(),
        200
    );
}
