//! Fault injection on loopback: TCP proxies a test puts between processes.
//!
//! Start with [`LinkProxy`]: one per directed link (node i → node j), forwarding every
//! connection to one target; [`LinkProxy::cut`] drops the open connections and black-holes new
//! ones (accepted, never answered, so the caller times out as in a real partition) until
//! [`LinkProxy::heal`]. [`RoundRobinProxy`] is a load balancer in front of several HTTP
//! backends: each new connection goes to the next backend, skipping the ones that refuse it.
//!
//! Both stop when dropped.
//!
//! A proxy closes connections when cut; a real partition drops packets silently and leaves
//! TCP and HTTP/2 to notice on their own. [`netns`] makes such partitions between processes
//! in network namespaces (root only), and [`isolated`] runs a store cluster there.
//!
//! Not here: starting the processes (see [`crate::cluster`]).

pub mod isolated;
pub mod netns;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a [`RoundRobinProxy`] waits for one backend to accept before trying the next.
const BACKEND_CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// A TCP proxy for one directed link, which a test can cut and heal.
pub struct LinkProxy {
    addr: SocketAddr,
    /// Bumped by every [`LinkProxy::cut`]; connections opened before a cut end on it.
    generation: watch::Sender<u64>,
    cut: Arc<AtomicBool>,
    accept: JoinHandle<()>,
}

impl LinkProxy {
    /// Listens on `127.0.0.1:0` and forwards every accepted connection to `target`.
    pub async fn start(target: SocketAddr) -> crate::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (generation, _) = watch::channel(0_u64);
        let cut = Arc::new(AtomicBool::new(false));
        let accept = tokio::spawn(accept_links(
            listener,
            target,
            generation.clone(),
            Arc::clone(&cut),
        ));
        Ok(Self {
            addr,
            generation,
            cut,
            accept,
        })
    }

    /// The address callers connect to instead of the target.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` of the proxy.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Closes every open connection and black-holes new ones until [`LinkProxy::heal`].
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.send_modify(|generation| *generation += 1);
    }

    /// Forwards new connections again (the ones held while cut stay dead).
    pub fn heal(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }

    /// Whether the link is cut.
    pub fn is_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }
}

impl Drop for LinkProxy {
    fn drop(&mut self) {
        self.accept.abort();
        // Ends the forwarding tasks too.
        self.generation.send_modify(|generation| *generation += 1);
    }
}

async fn accept_links(
    listener: TcpListener,
    target: SocketAddr,
    generation: watch::Sender<u64>,
    cut: Arc<AtomicBool>,
) {
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            continue;
        };
        let mut ended = generation.subscribe();
        ended.mark_unchanged();
        if cut.load(Ordering::SeqCst) {
            // Black hole: hold the socket open, unanswered, until the next cut or a drop.
            tokio::spawn(async move {
                let _held = inbound;
                let _ = ended.changed().await;
            });
            continue;
        }
        tokio::spawn(async move {
            let _ = inbound.set_nodelay(true);
            let Ok(mut outbound) = TcpStream::connect(target).await else {
                return;
            };
            let _ = outbound.set_nodelay(true);
            let mut inbound = inbound;
            tokio::select! {
                _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
                _ = ended.changed() => {}
            }
        });
    }
}

/// A round-robin TCP load balancer in front of HTTP backends.
pub struct RoundRobinProxy {
    addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl RoundRobinProxy {
    /// Listens on `127.0.0.1:0`; each accepted connection goes to the next of `backends`, or
    /// the one after it if that one does not accept within half a second.
    pub async fn start(backends: Vec<SocketAddr>) -> crate::Result<Self> {
        if backends.is_empty() {
            anyhow::bail!("a round-robin proxy needs at least one backend");
        }
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let accept = tokio::spawn(accept_balanced(listener, Arc::new(backends)));
        Ok(Self { addr, accept })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` of the proxy, the base URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RoundRobinProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_balanced(listener: TcpListener, backends: Arc<Vec<SocketAddr>>) {
    let next = Arc::new(AtomicUsize::new(0));
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        let backends = Arc::clone(&backends);
        let first = next.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let _ = inbound.set_nodelay(true);
            let Some(mut outbound) = connect_any(&backends, first).await else {
                return;
            };
            let _ = copy_bidirectional(&mut inbound, &mut outbound).await;
        });
    }
}

/// Connects to the first backend that accepts, starting at index `first` (modulo the count).
async fn connect_any(backends: &[SocketAddr], first: usize) -> Option<TcpStream> {
    for offset in 0..backends.len() {
        let Some(backend) = backends.get((first + offset) % backends.len()) else {
            continue;
        };
        if let Ok(Ok(stream)) =
            tokio::time::timeout(BACKEND_CONNECT_TIMEOUT, TcpStream::connect(backend)).await
        {
            let _ = stream.set_nodelay(true);
            return Some(stream);
        }
    }
    None
}

/// The socket address of an `http://HOST:PORT` URL (loopback URLs as the harness prints them).
pub fn url_addr(url: &str) -> crate::Result<SocketAddr> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("not an http:// URL: {url}"))?;
    let authority = rest.split('/').next().unwrap_or(rest);
    Ok(authority.parse()?)
}

#[cfg(test)]
mod tests;
