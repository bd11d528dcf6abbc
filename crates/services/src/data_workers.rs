//! The data workers as the node sees them: a supervisor that spawns one `qnode worker`
//! process per core, waits until each answers, restarts dead or hung ones with backoff and
//! stops them all on shutdown — or a fixed list of remote workers. Either way the proof
//! loop gets one gRPC client per worker.

use qnode_protocol::pb::data::data_ipc_service_client::DataIpcServiceClient;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::process::{Child, Command};
use tokio::sync::Mutex;
use tonic::transport::{Channel, Endpoint};

/// How to run local workers.
#[derive(Debug, Clone)]
pub struct LocalWorkers {
    /// The `qnode` executable to run as `qnode worker`.
    pub program: PathBuf,
    /// How many workers (cores) to run.
    pub count: u32,
    /// Worker i listens on 127.0.0.1:(base_port + i).
    pub base_port: u16,
    /// Devnet difficulty divisor (1 on a real network).
    pub difficulty_divisor: u32,
    /// The node's logging options, passed on, so that its workers' lines have the same
    /// form as its own.
    pub log_args: Vec<String>,
    /// Where the workers' log lines go (with the node's own: stderr and its log file);
    /// `None` leaves them on the node's stderr.
    pub log_relay: Option<LogRelay>,
}

/// Takes a worker's log lines, one at a time, without their newline.
#[derive(Clone)]
pub struct LogRelay(pub Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for LogRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogRelay")
    }
}

/// Hands each line `stderr` gives to `relay` until it ends (its worker exited).
fn relay_lines(stderr: tokio::process::ChildStderr, relay: LogRelay) {
    use tokio::io::AsyncBufReadExt;
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            (relay.0)(&line);
        }
    });
}

/// Why workers could not be started.
#[derive(Debug, thiserror::Error)]
pub enum WorkersError {
    /// A worker port is taken.
    #[error(
        "port {0} is already in use; stop whatever uses it or choose other worker ports \
         with --worker-base-port"
    )]
    PortInUse(SocketAddr),
    /// Port arithmetic or an address failed.
    #[error(transparent)]
    Address(#[from] qnode_worker::WorkerError),
    /// A worker could not be spawned.
    #[error("cannot start worker {core} ({}): {source}", program.display())]
    Spawn {
        /// The core.
        core: u32,
        /// The executable.
        program: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// A worker did not answer in time.
    #[error("worker {core} at {addr} did not start answering within {seconds} s")]
    NotReady {
        /// The core.
        core: u32,
        /// Its address.
        addr: SocketAddr,
        /// How long we waited.
        seconds: u64,
    },
    /// A remote worker address is not a valid URI.
    #[error("bad worker address {address:?}: {source}")]
    BadAddress {
        /// The address given.
        address: String,
        /// Why it is not a URI.
        source: tonic::transport::Error,
    },
}

const READY_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Spawns, watches and stops local worker processes.
pub struct Supervisor {
    config: LocalWorkers,
    addrs: Vec<SocketAddr>,
    children: Vec<Mutex<Option<Child>>>,
    restarts: AtomicU64,
    stopping: AtomicBool,
}

impl Supervisor {
    /// Checks every port, starts every worker and waits until each accepts connections.
    pub async fn start(config: LocalWorkers) -> Result<Arc<Supervisor>, WorkersError> {
        let addrs = check_ports(&config).await?;
        let supervisor = Arc::new(Supervisor {
            children: addrs.iter().map(|_| Mutex::new(None)).collect(),
            addrs,
            config,
            restarts: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
        });
        for core in 0..supervisor.config.count {
            supervisor.spawn(core).await?;
        }
        for core in 0..supervisor.config.count {
            supervisor.wait_ready(core).await?;
        }
        tracing::info!(workers = supervisor.config.count, "data workers ready");
        Ok(supervisor)
    }

    /// The gRPC endpoints, one per worker.
    pub fn endpoints(&self) -> Vec<String> {
        self.addrs.iter().map(|a| format!("http://{a}")).collect()
    }

    /// How many times workers were restarted.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// The process id of worker `core`, while it runs.
    pub async fn pid(&self, core: usize) -> Option<u32> {
        self.children
            .get(core)?
            .lock()
            .await
            .as_ref()
            .and_then(Child::id)
    }

    async fn spawn(&self, core: u32) -> Result<(), WorkersError> {
        let addr = self.addrs[core as usize];
        let mut child = Command::new(&self.config.program)
            .args([
                "worker",
                "--core",
                &core.to_string(),
                "--listen",
                &addr.to_string(),
            ])
            .args(["--parent-process", &std::process::id().to_string()])
            .args([
                "--difficulty-divisor",
                &self.config.difficulty_divisor.to_string(),
            ])
            // Proofs are the workers' whole job, but on a saturated machine the node's
            // networking (answers peers time) goes first.
            .args(["--niceness", &qnode_compute::NICENESS.to_string()])
            .args(&self.config.log_args)
            .stdin(std::process::Stdio::null())
            .stderr(match self.config.log_relay {
                Some(_) => std::process::Stdio::piped(),
                None => std::process::Stdio::inherit(),
            })
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| WorkersError::Spawn {
                core,
                program: self.config.program.clone(),
                source,
            })?;
        if let (Some(relay), Some(stderr)) = (&self.config.log_relay, child.stderr.take()) {
            relay_lines(stderr, relay.clone());
        }
        *self.children[core as usize].lock().await = Some(child);
        Ok(())
    }

    async fn wait_ready(&self, core: u32) -> Result<(), WorkersError> {
        let addr = self.addrs[core as usize];
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        while tokio::time::Instant::now() < deadline {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(WorkersError::NotReady {
            core,
            addr,
            seconds: READY_TIMEOUT.as_secs(),
        })
    }

    /// Kills worker `core` (if it runs) and starts it again: for a hung worker.
    pub async fn restart(&self, core: u32) {
        if let Some(mut child) = self.children[core as usize].lock().await.take() {
            let _ = child.kill().await;
        }
        self.respawn(core, Duration::ZERO).await;
    }

    async fn respawn(&self, core: u32, backoff: Duration) {
        if self.stopping.load(Ordering::SeqCst) {
            return;
        }
        self.restarts.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(backoff).await;
        match self.spawn(core).await {
            Ok(()) => match self.wait_ready(core).await {
                Ok(()) => tracing::info!(core, "data worker restarted"),
                Err(e) => tracing::error!(core, "restarted worker not ready: {e}"),
            },
            Err(e) => tracing::error!(core, "cannot restart worker: {e}"),
        }
    }

    /// Restarts workers that exit, backing off (100 ms doubling to 5 s) per worker while
    /// they keep dying, until `shutdown` flips.
    pub async fn supervise(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut backoff = vec![Duration::from_millis(100); self.addrs.len()];
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            for (core, (slot, delay)) in self.children.iter().zip(&mut backoff).enumerate() {
                let exited = {
                    let mut slot = slot.lock().await;
                    match slot.as_mut().map(Child::try_wait) {
                        Some(Ok(Some(status))) => {
                            tracing::warn!(core, %status, "data worker exited");
                            slot.take();
                            true
                        }
                        None => true,
                        _ => false,
                    }
                };
                if exited {
                    self.respawn(core as u32, *delay).await;
                    *delay = (*delay * 2).min(MAX_BACKOFF);
                } else {
                    *delay = Duration::from_millis(100);
                }
            }
        }
    }

    /// Stops every worker and waits for them.
    pub async fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        for slot in &self.children {
            if let Some(mut child) = slot.lock().await.take() {
                let _ = child.kill().await;
            }
        }
        tracing::info!("data workers stopped");
    }
}

/// The workers' addresses, once each is free to listen on (a start checks this before
/// it writes anything, and again when it starts the workers).
pub async fn check_ports(config: &LocalWorkers) -> Result<Vec<SocketAddr>, WorkersError> {
    let addrs = (0..config.count)
        .map(|i| qnode_worker::default_address(i, config.base_port))
        .collect::<Result<Vec<_>, _>>()?;
    for addr in &addrs {
        wait_for_free_port(*addr).await?;
    }
    Ok(addrs)
}

/// Waits briefly for a port to be free: workers of a node that was killed exit within a
/// fraction of a second once they notice, and a restart should not trip over them.
async fn wait_for_free_port(addr: SocketAddr) -> Result<(), WorkersError> {
    for _ in 0..30 {
        if std::net::TcpListener::bind(addr).is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(WorkersError::PortInUse(addr))
}

/// One client per worker endpoint. Connections are lazy and re-established on their own,
/// so a restarted worker is picked up without rebuilding the client.
pub fn clients(endpoints: &[String]) -> Result<Vec<DataIpcServiceClient<Channel>>, WorkersError> {
    endpoints
        .iter()
        .map(|e| {
            let endpoint = Endpoint::from_shared(e.clone())
                .map_err(|source| WorkersError::BadAddress {
                    address: e.clone(),
                    source,
                })?
                .connect_timeout(Duration::from_secs(5));
            Ok(DataIpcServiceClient::new(endpoint.connect_lazy()))
        })
        .collect()
}
