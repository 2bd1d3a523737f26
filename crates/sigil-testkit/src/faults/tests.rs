//! The fault proxies against echo servers: a link that is cut and healed, and round robin
//! over backends, skipping a dead one.

use super::{LinkProxy, RoundRobinProxy, url_addr};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// An echo server; returns its address.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0_u8; 1024];
                while let Ok(n) = socket.read(&mut buffer).await {
                    if n == 0 || socket.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// A server that writes `name` to every connection and closes it.
async fn named_server(name: u8) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket.write_all(&[name]).await;
        }
    });
    addr
}

/// Sends `message` and returns what comes back within 300 ms (`None` on timeout).
async fn round_trip(stream: &mut TcpStream, message: &[u8]) -> Option<Vec<u8>> {
    if stream.write_all(message).await.is_err() {
        return Some(Vec::new());
    }
    let mut buffer = vec![0_u8; message.len()];
    match tokio::time::timeout(Duration::from_millis(300), stream.read_exact(&mut buffer)).await {
        Ok(Ok(_)) => Some(buffer),
        Ok(Err(_)) => Some(Vec::new()),
        Err(_) => None,
    }
}

async fn first_byte(addr: SocketAddr) -> u8 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut byte = [0_u8; 1];
    stream.read_exact(&mut byte).await.unwrap();
    byte[0]
}

#[tokio::test]
async fn link_proxy_forwards_until_cut_and_again_after_heal() {
    let proxy = LinkProxy::start(echo_server().await).await.unwrap();
    let mut open = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(
        round_trip(&mut open, b"ping").await.as_deref(),
        Some(&b"ping"[..])
    );

    proxy.cut();
    assert!(proxy.is_cut());
    // The open connection is closed: reads end (EOF or reset), nothing is echoed.
    let mut buffer = [0_u8; 4];
    let read = tokio::time::timeout(Duration::from_secs(2), open.read(&mut buffer))
        .await
        .expect("the cut connection should be closed, not left hanging");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");

    // A new connection is accepted but black-holed: no answer, no close.
    let mut held = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(round_trip(&mut held, b"ping").await, None);

    proxy.heal();
    let mut fresh = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(
        round_trip(&mut fresh, b"pong").await.as_deref(),
        Some(&b"pong"[..])
    );
}

#[tokio::test]
async fn round_robin_proxy_rotates_over_backends() {
    let backends = vec![
        named_server(0).await,
        named_server(1).await,
        named_server(2).await,
    ];
    let proxy = RoundRobinProxy::start(backends).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(first_byte(proxy.addr()).await);
    }
    assert_eq!(seen, [0, 1, 2, 0, 1, 2]);
}

#[tokio::test]
async fn round_robin_proxy_skips_a_dead_backend() {
    let dead = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let backends = vec![named_server(0).await, dead, named_server(2).await];
    let proxy = RoundRobinProxy::start(backends).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..6 {
        seen.push(first_byte(proxy.addr()).await);
    }
    assert!(seen.iter().all(|&name| name == 0 || name == 2), "{seen:?}");
    assert!(seen.contains(&0) && seen.contains(&2), "{seen:?}");
}

#[tokio::test]
async fn round_robin_proxy_needs_a_backend() {
    assert!(RoundRobinProxy::start(Vec::new()).await.is_err());
}

#[test]
fn url_addr_reads_loopback_urls() {
    assert_eq!(
        url_addr("http://127.0.0.1:7001").unwrap(),
        "127.0.0.1:7001".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(
        url_addr("http://127.0.0.1:7001/metrics").unwrap().port(),
        7001
    );
    assert!(url_addr("https://127.0.0.1:7001").is_err());
    assert!(url_addr("http://localhost:7001").is_err());
}
