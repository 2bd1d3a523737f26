//! A TCP load balancer that follows readiness the way a Kubernetes Service does.
//!
//! [`Balancer::start`] listens on loopback and hands each new connection to the next backend
//! *in rotation*, round robin; a connection stays with its backend until either side closes
//! it (kube-proxy balances connections, not requests). A backend enters the rotation only
//! after its readiness probe (`GET /readyz`, a new connection each time, as the kubelet
//! probes) has passed `success_threshold` times in a row, and leaves it only after the probe
//! has failed `failure_threshold` times in a row: an answer other than 2xx, no answer within
//! `probe_timeout`, or a refused connection. Probes run every `probe_period`, so the
//! balancer learns of a backend going away up to a period late, exactly the window a
//! graceful drain must cover.
//!
//! A connection handed to a backend that then refuses it is closed without an answer: the
//! client sees the error it would see behind a real Service. A connection that arrives while
//! no backend is in rotation is closed the same way (and counted, [`Balancer::unroutable`]).
//!
//! Backends change as pods do: a pod restarted on the same port is probed back into rotation
//! on its own; one that comes back on a new port is swapped in with [`Balancer::replace`],
//! and starts out of rotation until its probe passes, like a new pod.

use anyhow::bail;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How a [`Balancer`] probes its backends.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Time between probes of a backend (`periodSeconds`).
    pub period: Duration,
    /// How long one probe may take (`timeoutSeconds`).
    pub timeout: Duration,
    /// Failed probes in a row that take a backend out (`failureThreshold`).
    pub failure_threshold: u32,
    /// Passed probes in a row that bring it in (`successThreshold`).
    pub success_threshold: u32,
    /// The path probed.
    pub path: String,
}

impl Default for ProbeOptions {
    /// A 1 s period, 1 s timeout, one failure out, one success in, `/readyz`.
    fn default() -> Self {
        Self {
            period: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            failure_threshold: 1,
            success_threshold: 1,
            path: "/readyz".into(),
        }
    }
}

/// How long the balancer waits for a backend to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// One backend and what its probes said.
#[derive(Debug, Clone)]
struct Backend {
    addr: SocketAddr,
    in_rotation: bool,
    /// Passed (positive) or failed (negative) probes in a row.
    streak: i64,
}

/// The backends, shared by the accepting and the probing task.
struct Pool {
    backends: Mutex<Vec<Backend>>,
    next: AtomicUsize,
    unroutable: AtomicU64,
}

impl Pool {
    fn backends(&self) -> std::sync::MutexGuard<'_, Vec<Backend>> {
        // A panic while holding the lock cannot leave the list half-changed: recover it.
        self.backends
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next backend in rotation, round robin.
    fn pick(&self) -> Option<SocketAddr> {
        let ready: Vec<SocketAddr> = self
            .backends()
            .iter()
            .filter(|b| b.in_rotation)
            .map(|b| b.addr)
            .collect();
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        ready.get(turn % ready.len().max(1)).copied()
    }

    /// Applies one probe result of `addr` (if it is still a backend).
    fn probed(&self, addr: SocketAddr, passed: bool, options: &ProbeOptions) {
        let mut backends = self.backends();
        let Some(backend) = backends.iter_mut().find(|b| b.addr == addr) else {
            return;
        };
        backend.streak = match (passed, backend.streak) {
            (true, streak) if streak > 0 => streak + 1,
            (true, _) => 1,
            (false, streak) if streak < 0 => streak - 1,
            (false, _) => -1,
        };
        if backend.streak >= i64::from(options.success_threshold) {
            backend.in_rotation = true;
        }
        if -backend.streak >= i64::from(options.failure_threshold) {
            backend.in_rotation = false;
        }
    }
}

/// A round-robin TCP balancer over backends that pass their readiness probe.
pub struct Balancer {
    addr: SocketAddr,
    pool: Arc<Pool>,
    options: ProbeOptions,
    accept: JoinHandle<()>,
    probe: JoinHandle<()>,
}

impl Balancer {
    /// Listens on `127.0.0.1:0` in front of `backends`, probes them once (the ones that pass
    /// start in rotation), then every `options.period`.
    pub async fn start(backends: &[SocketAddr], options: ProbeOptions) -> crate::Result<Self> {
        if options.failure_threshold == 0 || options.success_threshold == 0 {
            bail!("probe thresholds must be at least 1");
        }
        let pool = Arc::new(Pool {
            backends: Mutex::new(
                backends
                    .iter()
                    .map(|addr| Backend {
                        addr: *addr,
                        in_rotation: false,
                        streak: 0,
                    })
                    .collect(),
            ),
            next: AtomicUsize::new(0),
            unroutable: AtomicU64::new(0),
        });
        let prober = Prober::new(&options)?;
        prober.round(&pool).await;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let accept = tokio::spawn(accept(listener, Arc::clone(&pool)));
        let probe = tokio::spawn(prober.run(Arc::clone(&pool)));
        Ok(Self {
            addr,
            pool,
            options,
            accept,
            probe,
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` of the balancer, the base URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The probe settings.
    pub fn options(&self) -> &ProbeOptions {
        &self.options
    }

    /// The backends in rotation now.
    pub fn in_rotation(&self) -> Vec<SocketAddr> {
        self.pool
            .backends()
            .iter()
            .filter(|b| b.in_rotation)
            .map(|b| b.addr)
            .collect()
    }

    /// Whether `addr` is in rotation now.
    pub fn is_in_rotation(&self, addr: SocketAddr) -> bool {
        self.in_rotation().contains(&addr)
    }

    /// Connections closed because no backend was in rotation.
    pub fn unroutable(&self) -> u64 {
        self.pool.unroutable.load(Ordering::Relaxed)
    }

    /// Swaps backend `old` for `new` (a pod that came back on another address); `new` is out
    /// of rotation until its probe passes. Connections already open to `old` stay open.
    pub fn replace(&self, old: SocketAddr, new: SocketAddr) -> crate::Result<()> {
        let mut backends = self.pool.backends();
        let Some(backend) = backends.iter_mut().find(|b| b.addr == old) else {
            bail!("{old} is not a backend");
        };
        *backend = Backend {
            addr: new,
            in_rotation: false,
            streak: 0,
        };
        Ok(())
    }

    /// Adds backend `addr`, out of rotation until its probe passes.
    pub fn add(&self, addr: SocketAddr) {
        self.pool.backends().push(Backend {
            addr,
            in_rotation: false,
            streak: 0,
        });
    }

    /// Removes backend `addr` (a deleted pod); its open connections stay open.
    pub fn remove(&self, addr: SocketAddr) {
        self.pool.backends().retain(|b| b.addr != addr);
    }

    /// Waits until `addr` is in rotation, for at most `within`.
    pub async fn wait_in_rotation(&self, addr: SocketAddr, within: Duration) -> crate::Result<()> {
        self.wait_for(addr, true, within).await
    }

    /// Waits until `addr` is out of rotation, for at most `within`.
    pub async fn wait_out_of_rotation(
        &self,
        addr: SocketAddr,
        within: Duration,
    ) -> crate::Result<()> {
        self.wait_for(addr, false, within).await
    }

    async fn wait_for(
        &self,
        addr: SocketAddr,
        in_rotation: bool,
        within: Duration,
    ) -> crate::Result<()> {
        let deadline = Instant::now() + within;
        while self.is_in_rotation(addr) != in_rotation {
            if Instant::now() > deadline {
                let state = if in_rotation { "in" } else { "out of" };
                bail!("{addr} was not {state} rotation within {within:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.accept.abort();
        self.probe.abort();
    }
}

async fn accept(listener: TcpListener, pool: Arc<Pool>) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        let Some(backend) = pool.pick() else {
            pool.unroutable.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        tokio::spawn(async move {
            let _ = inbound.set_nodelay(true);
            let Ok(Ok(mut outbound)) =
                tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(backend)).await
            else {
                return;
            };
            let _ = outbound.set_nodelay(true);
            let _ = copy_bidirectional(&mut inbound, &mut outbound).await;
        });
    }
}

/// Sends the readiness probes.
struct Prober {
    http: reqwest::Client,
    options: ProbeOptions,
}

impl Prober {
    fn new(options: &ProbeOptions) -> crate::Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(options.timeout)
            .build()?;
        Ok(Self {
            http,
            options: options.clone(),
        })
    }

    async fn run(self, pool: Arc<Pool>) {
        let mut ticks = tokio::time::interval(self.options.period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            self.round(&pool).await;
        }
    }

    /// Probes every backend at once and applies the results.
    async fn round(&self, pool: &Pool) {
        let addrs: Vec<SocketAddr> = pool.backends().iter().map(|b| b.addr).collect();
        let probes = addrs.iter().map(|addr| self.probe(*addr));
        let results = futures::future::join_all(probes).await;
        for (addr, passed) in addrs.into_iter().zip(results) {
            pool.probed(addr, passed, &self.options);
        }
    }

    async fn probe(&self, addr: SocketAddr) -> bool {
        let url = format!("http://{addr}{}", self.options.path);
        match self.http.get(url).send().await {
            Ok(response) => response.status().is_success(),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests;
