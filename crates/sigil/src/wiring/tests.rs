//! The stop sequence of a real service (embedded store, `dev` keys) on loopback, driven by
//! stop requests instead of signals, and spoken to over raw HTTP/1.1 so that each connection's
//! fate (kept alive, closed after a response, refused) is visible.

use super::{Service, Settings, StoreChoice, shutdown::StopRequest, start};
use crate::config::Config;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// `client-secret-for-tests`, as `sha256:`.
const SECRET_HASH: &str = "sha256:j4DXehDuEl9vGAM6JX0jQT3w5U-VlDZrQ-gGuVeco3g";
/// `Basic` of `svc:client-secret-for-tests`.
const SVC_BASIC: &str = "c3ZjOmNsaWVudC1zZWNyZXQtZm9yLXRlc3Rz";
const TOKEN_BODY: &str = "grant_type=client_credentials";

/// A running service, the sender of its stop requests, and its task.
struct Running {
    addr: SocketAddr,
    stops: mpsc::UnboundedSender<StopRequest>,
    task: JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn run(drain: &str, timeout: &str) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "server: {{ shutdown: {{ drain: {drain}, timeout: {timeout} }} }}\n\
         signing: {{ algorithm: ES256, source: {{ kind: dev }} }}\n\
         api_scopes: [{{ name: api }}]\n\
         api_resources: [{{ resource: \"https://api.test\", scopes: [api] }}]\n\
         clients:\n\
         - {{ client_id: svc, secrets: [\"{SECRET_HASH}\"], grant_types: [client_credentials], scopes: [api] }}\n"
    );
    let config_path = dir.path().join("sigil.yaml");
    std::fs::write(&config_path, &config).unwrap();
    let service: Service = start(Settings {
        config: Config::parse(&config).unwrap(),
        config_path,
        listen: "127.0.0.1:0".parse().unwrap(),
        ops_listen: None,
        issuer: None,
        store: StoreChoice::Embedded {
            data_dir: dir.path().join("data"),
        },
    })
    .await
    .unwrap();
    let addr = service.summary.listen;
    let (stops, receive) = mpsc::unbounded_channel();
    let task = tokio::spawn(service.run_until_stopped(receive));
    Running {
        addr,
        stops,
        task,
        _dir: dir,
    }
}

/// One response read off a connection: status, whether it says `Connection: close`.
#[derive(Debug)]
struct Response {
    status: u16,
    close: bool,
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: sigil.test\r\n\r\n")
}

fn token_head(length: usize) -> String {
    format!(
        "POST /connect/token HTTP/1.1\r\nhost: sigil.test\r\nauthorization: Basic {SVC_BASIC}\r\n\
         content-type: application/x-www-form-urlencoded\r\ncontent-length: {length}\r\n\r\n"
    )
}

fn token_request() -> String {
    format!("{}{TOKEN_BODY}", token_head(TOKEN_BODY.len()))
}

/// Reads one response (head and `content-length` body).
async fn read_response(stream: &mut TcpStream) -> Response {
    let mut bytes = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&bytes).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = text[..end].to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(0, |value| value.trim().parse().unwrap());
            if bytes.len() >= end + 4 + length {
                let status = head[9..12].parse().unwrap();
                return Response {
                    status,
                    close: head.lines().any(|line| line == "connection: close"),
                };
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("a response within 10 s")
            .unwrap();
        assert!(n > 0, "closed before a whole response: {text}");
        bytes.extend_from_slice(&buffer[..n]);
    }
}

async fn exchange(stream: &mut TcpStream, request: &str) -> Response {
    stream.write_all(request.as_bytes()).await.unwrap();
    read_response(stream).await
}

/// Whether the server has closed `stream` (a read ends with EOF), waiting up to 5 s.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut byte = [0_u8; 1];
    matches!(
        tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}

/// Waits until new connections are refused, for at most `within`.
async fn refused_within(addr: SocketAddr, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect(addr).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_drains_then_refuses_new_connections_and_finishes_requests_in_flight() {
    let service = run("5s", "10s").await;
    let mut kept = TcpStream::connect(service.addr).await.unwrap();
    let ready = exchange(&mut kept, &get("/readyz")).await;
    assert_eq!((ready.status, ready.close), (200, false));
    // A keep-alive connection, idle from before the stop until the listener closes.
    let mut idle = TcpStream::connect(service.addr).await.unwrap();
    assert_eq!(exchange(&mut idle, &get("/healthz")).await.status, 200);
    // A request in flight across the whole stop: its body is not all sent yet.
    let mut slow = TcpStream::connect(service.addr).await.unwrap();
    let (first, rest) = TOKEN_BODY.split_at(10);
    slow.write_all(format!("{}{first}", token_head(TOKEN_BODY.len())).as_bytes())
        .await
        .unwrap();

    service.stops.send("test").unwrap();
    let stopped_at = Instant::now();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Not ready at once, and the connection that asked is closed after the answer.
    let ready = exchange(&mut kept, &get("/readyz")).await;
    assert_eq!((ready.status, ready.close), (503, true));
    assert!(closed_by_server(&mut kept).await);
    // Everything else is still served, on new connections too, each closed after its answer.
    let mut during = TcpStream::connect(service.addr).await.unwrap();
    let token = exchange(&mut during, &token_request()).await;
    assert_eq!((token.status, token.close), (200, true));
    assert!(closed_by_server(&mut during).await);
    assert!(
        stopped_at.elapsed() < Duration::from_secs(5),
        "the checks above ran within the drain period; the machine is too slow for this test"
    );

    // After the drain, the listener is closed; the idle connection is closed too.
    assert!(refused_within(service.addr, Duration::from_secs(10)).await);
    assert!(
        stopped_at.elapsed() >= Duration::from_secs(3),
        "not before the drain ended"
    );
    assert!(closed_by_server(&mut idle).await);
    // The request in flight still gets its answer.
    slow.write_all(rest.as_bytes()).await.unwrap();
    let token = read_response(&mut slow).await;
    assert_eq!((token.status, token.close), (200, true));

    let outcome = tokio::time::timeout(Duration::from_secs(15), service.task)
        .await
        .expect("the service stops once nothing is in flight");
    outcome.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_stop_ends_the_drain_and_the_timeout_cuts_what_does_not_finish() {
    let service = run("1h", "1s").await;
    let mut stuck = TcpStream::connect(service.addr).await.unwrap();
    stuck
        .write_all(format!("{}grant", token_head(TOKEN_BODY.len())).as_bytes())
        .await
        .unwrap();
    service.stops.send("first").unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut during = TcpStream::connect(service.addr).await.unwrap();
    assert_eq!(exchange(&mut during, &get("/readyz")).await.status, 503);

    service.stops.send("second").unwrap();
    assert!(refused_within(service.addr, Duration::from_secs(10)).await);
    // The request whose body never comes is cut after the timeout, and the service stops.
    let outcome = tokio::time::timeout(Duration::from_secs(15), service.task)
        .await
        .expect("the service stops after the timeout");
    outcome.unwrap().unwrap();
    assert!(closed_by_server(&mut stuck).await);
}
