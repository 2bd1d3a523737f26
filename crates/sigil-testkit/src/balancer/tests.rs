//! The balancer against tiny TCP backends: round robin over ready pods, and a pod leaving
//! rotation only once its `/readyz` probe fails.

use super::{Balancer, Pool, ProbeOptions};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// A backend that answers `/readyz` 200 or 503 as `ready` says, and any other request with
/// its `name`; one request per connection.
struct Backend {
    addr: SocketAddr,
    ready: Arc<AtomicBool>,
}

async fn backend(name: &'static str) -> Backend {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let ready = Arc::new(AtomicBool::new(true));
    let flag = Arc::clone(&ready);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let flag = Arc::clone(&flag);
            tokio::spawn(async move {
                let mut buffer = [0_u8; 1024];
                let n = socket.read(&mut buffer).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buffer[..n]);
                let (status, body) = if request.starts_with("GET /readyz") {
                    if flag.load(Ordering::SeqCst) {
                        ("200 OK", "ready")
                    } else {
                        ("503 Service Unavailable", "draining")
                    }
                } else {
                    ("200 OK", name)
                };
                let answer = format!(
                    "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    Backend { addr, ready }
}

fn fast() -> ProbeOptions {
    ProbeOptions {
        period: Duration::from_millis(100),
        ..ProbeOptions::default()
    }
}

/// The body of `GET /` through the balancer, or `None` if the connection closed unanswered.
async fn hit(balancer: &Balancer) -> Option<String> {
    let mut stream = TcpStream::connect(balancer.addr()).await.ok()?;
    stream
        .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .ok()?;
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(2), stream.read_to_string(&mut answer))
        .await
        .ok()?
        .ok()?;
    answer.split("\r\n\r\n").nth(1).map(str::to_owned)
}

#[tokio::test]
async fn new_connections_take_turns_over_the_ready_backends() {
    let (a, b) = (backend("a").await, backend("b").await);
    let balancer = Balancer::start(&[a.addr, b.addr], fast()).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(hit(&balancer).await.unwrap());
    }
    seen.sort();
    assert_eq!(seen, ["a", "a", "b", "b"]);
}

#[tokio::test]
async fn a_backend_leaves_only_when_its_probe_fails_and_returns_when_it_passes() {
    let (a, b) = (backend("a").await, backend("b").await);
    let options = ProbeOptions {
        period: Duration::from_millis(400),
        ..ProbeOptions::default()
    };
    let balancer = Balancer::start(&[a.addr, b.addr], options).await.unwrap();
    a.ready.store(false, Ordering::SeqCst);
    // Not yet probed: still in rotation, as a Service is until the kubelet notices.
    assert!(balancer.is_in_rotation(a.addr));
    balancer
        .wait_out_of_rotation(a.addr, Duration::from_secs(3))
        .await
        .unwrap();
    for _ in 0..4 {
        assert_eq!(hit(&balancer).await.as_deref(), Some("b"));
    }
    a.ready.store(true, Ordering::SeqCst);
    balancer
        .wait_in_rotation(a.addr, Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(balancer.in_rotation().len(), 2);
}

#[tokio::test]
async fn a_backend_that_refuses_connections_is_out_and_a_replacement_comes_in_when_ready() {
    let a = backend("a").await;
    let gone = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone_addr = gone.local_addr().unwrap();
    drop(gone);
    let balancer = Balancer::start(&[a.addr, gone_addr], fast()).await.unwrap();
    assert_eq!(balancer.in_rotation(), [a.addr]);

    let b = backend("b").await;
    b.ready.store(false, Ordering::SeqCst);
    balancer.replace(gone_addr, b.addr).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!balancer.is_in_rotation(b.addr), "not ready yet");
    b.ready.store(true, Ordering::SeqCst);
    balancer
        .wait_in_rotation(b.addr, Duration::from_secs(3))
        .await
        .unwrap();
    assert!(balancer.replace(gone_addr, b.addr).is_err());
}

#[tokio::test]
async fn with_no_backend_in_rotation_connections_close_unanswered() {
    let a = backend("a").await;
    a.ready.store(false, Ordering::SeqCst);
    let balancer = Balancer::start(&[a.addr], fast()).await.unwrap();
    assert_eq!(hit(&balancer).await, None);
    assert_eq!(balancer.unroutable(), 1);
}

#[test]
fn thresholds_count_probes_in_a_row() {
    let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
    let pool = Pool {
        backends: std::sync::Mutex::new(vec![super::Backend {
            addr,
            in_rotation: false,
            streak: 0,
        }]),
        next: Default::default(),
        unroutable: Default::default(),
    };
    let options = ProbeOptions {
        failure_threshold: 3,
        success_threshold: 2,
        ..ProbeOptions::default()
    };
    let in_rotation = || pool.backends().iter().any(|b| b.in_rotation);
    pool.probed(addr, true, &options);
    assert!(!in_rotation(), "one success of two");
    pool.probed(addr, true, &options);
    assert!(in_rotation());
    pool.probed(addr, false, &options);
    pool.probed(addr, false, &options);
    pool.probed(addr, true, &options);
    pool.probed(addr, false, &options);
    pool.probed(addr, false, &options);
    assert!(in_rotation(), "a success in between starts the count again");
    pool.probed(addr, false, &options);
    assert!(!in_rotation());
    pool.probed(addr, true, &options);
    assert!(!in_rotation());
    assert_eq!(pool.pick(), None);
}
