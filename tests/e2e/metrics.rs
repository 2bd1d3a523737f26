//! `/metrics`: the counters a dashboard needs, in an exposition `promtool check metrics`
//! accepts.

use sigil_e2e::{CLIENT_SECRET, config, issue_token};
use sigil_testkit::SigilDev;
use sigil_testkit::client::{basic, post_form};
use std::io::Write as _;
use std::process::{Command, Stdio};

#[tokio::test]
async fn metrics_count_tokens_errors_and_latency_and_pass_promtool() {
    let sigil = SigilDev::start(Some(&config("tokens.yaml", &[])))
        .await
        .unwrap();
    let token_url = sigil.url("/connect/token");
    for _ in 0..3 {
        let ok = post_form(
            &token_url,
            Some(&basic("jwt-client", CLIENT_SECRET)),
            "grant_type=client_credentials",
        )
        .await
        .unwrap();
        assert_eq!(ok.status, 200);
    }
    let bad = post_form(
        &token_url,
        Some(&basic("jwt-client", "nope")),
        "grant_type=client_credentials",
    )
    .await
    .unwrap();
    assert_eq!(bad.status, 401);
    let scope = post_form(
        &token_url,
        Some(&basic("jwt-client", CLIENT_SECRET)),
        "grant_type=client_credentials&scope=x",
    )
    .await
    .unwrap();
    assert_eq!(scope.status, 400);

    let text = reqwest::get(sigil.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let has = |line: &str| text.lines().any(|l| l == line);
    assert!(
        has(
            r#"sigil_tokens_issued_total{client_id="jwt-client",grant_type="client_credentials"} 3"#
        ),
        "{text}"
    );
    assert!(
        has(r#"sigil_token_errors_total{error="invalid_client"} 1"#),
        "{text}"
    );
    assert!(
        has(r#"sigil_token_errors_total{error="invalid_scope"} 1"#),
        "{text}"
    );
    assert!(
        has(r#"sigil_client_authentication_failures_total{endpoint="token"} 1"#),
        "{text}"
    );
    assert!(
        has(
            r#"sigil_http_request_duration_seconds_count{endpoint="/connect/token",method="POST"} 5"#
        ),
        "{text}"
    );
    for (status, count) in [("200", 3), ("400", 1), ("401", 1)] {
        assert!(
            has(&format!(
                r#"sigil_http_requests_total{{endpoint="/connect/token",method="POST",status="{status}"}} {count}"#
            )),
            "{text}"
        );
    }

    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is needed for this test: run `make tools` (make test does)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = promtool.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// With `--ops-listen`, metrics and health are served on their own listener (which an
/// Ingress never exposes) and the public listener no longer serves `/metrics`.
#[tokio::test]
async fn metrics_and_health_move_to_the_operations_listener() {
    let temp = tempfile::tempdir().unwrap();
    let ops_port = sigil_testkit::cluster::free_port().unwrap();
    let ops = format!("http://127.0.0.1:{ops_port}");
    let sigil = SigilDev::start_in(
        &temp.path().join("data"),
        Some(&config("tokens.yaml", &[])),
        &["--ops-listen", &format!("127.0.0.1:{ops_port}")],
    )
    .await
    .unwrap();
    issue_token(&sigil, "jwt-client").await;

    let get = |url: String| async move {
        let response = reqwest::get(&url).await.unwrap();
        let nosniff = response
            .headers()
            .get("x-content-type-options")
            .is_some_and(|value| value == "nosniff");
        assert!(nosniff, "{url}");
        (response.status().as_u16(), response.text().await.unwrap())
    };
    // Public listener: no metrics (they name clients); liveness and readiness stay for load
    // balancers that probe the port they send traffic to.
    assert_eq!(get(sigil.url("/metrics")).await.0, 404);
    assert_eq!(get(sigil.url("/healthz")).await.0, 200);
    assert_eq!(get(sigil.url("/readyz")).await.0, 200);
    // Operations listener: metrics and health, and nothing else.
    let (status, text) = get(format!("{ops}/metrics")).await;
    assert_eq!(status, 200);
    assert!(
        text.lines().any(|line| line
            == r#"sigil_tokens_issued_total{client_id="jwt-client",grant_type="client_credentials"} 1"#),
        "{text}"
    );
    assert_eq!(get(format!("{ops}/healthz")).await.0, 200);
    assert_eq!(get(format!("{ops}/readyz")).await.0, 200);
    assert_eq!(get(format!("{ops}/.well-known/jwks.json")).await.0, 404);
    let token_on_ops = post_form(
        &format!("{ops}/connect/token"),
        Some(&basic("jwt-client", CLIENT_SECRET)),
        "grant_type=client_credentials",
    )
    .await
    .unwrap();
    assert_eq!(token_on_ops.status, 404);
}
