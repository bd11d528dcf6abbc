//! `qnode run` and `qnode worker`.

use super::Hex;
use anyhow::{Context, Result};
use clap::Args;
use qnode_node::challenge_proof_verifier::ReportRules;
use qnode_node::data_workers::LocalWorkers;
use qnode_node::health::HealthRules;
use qnode_node::node::{NetworkSettings, NodeConfig, WorkerSource};
use qnode_node::recent_warnings::{RecentWarnings, WarningLayer};
use qnode_p2p::Multiaddr;
use qnode_protocol::frame;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The genesis seed of a local devnet (mainnet's seed is not embedded yet).
const DEVNET_SEED: &[u8] = b"qnode devnet";
/// How much a devnet divides every difficulty unless told otherwise.
const DEVNET_DIVISOR: u32 = 10_000;
/// A devnet paces its proof loop to two increments a second.
const DEVNET_MIN_INCREMENT_MS: u64 = 500;
/// A devnet re-verifies each peer's reports this often (the original waits 270 s).
const DEVNET_REPORT_WINDOW: Duration = Duration::from_secs(3);

#[derive(Args)]
pub struct RunArgs {
    /// Store, keys, KZG setup and self-test report live here.
    #[arg(long)]
    config_dir: PathBuf,
    /// Local worker processes (default: cores − 1, at least 1).
    #[arg(long)]
    workers: Option<u32>,
    /// Worker i listens on 127.0.0.1:(base + i).
    #[arg(long, default_value_t = 40_000)]
    worker_base_port: u16,
    /// Use these running workers (http://host:port, repeatable) instead of spawning.
    #[arg(long = "worker-addr")]
    worker_addrs: Vec<String>,
    /// A local devnet: generates a KZG setup if none, divides difficulties (see
    /// --difficulty-divisor).
    #[arg(long)]
    devnet: bool,
    /// KZG powers of a generated devnet setup: 1024 serves any parallelism, 128 up to 128
    /// workers (devnet only).
    #[arg(long, requires = "devnet", default_value_t = qnode_node::kzg_setup::DEVNET_POWERS)]
    devnet_setup_powers: usize,
    /// Divide every VDF difficulty by this (devnet only; default 10000 with --devnet).
    #[arg(long, requires = "devnet")]
    difficulty_divisor: Option<u32>,
    /// Genesis seed, hex (default: a devnet seed).
    #[arg(long)]
    genesis_seed: Option<Hex>,
    /// Network id: anything but 0 prefixes the genesis seed with that byte.
    #[arg(long, default_value_t = 0)]
    network: u8,
    /// Master clock difficulty (before any devnet divisor).
    #[arg(long, default_value_t = frame::DEFAULT_DIFFICULTY)]
    difficulty: u32,
    /// Milliseconds between master frames the node proves itself.
    #[arg(long, default_value_t = 20_000)]
    frame_interval_ms: u64,
    /// Seconds before a worker call counts as hung and the worker is restarted.
    #[arg(long, default_value_t = 600)]
    worker_timeout_secs: u64,
    /// Each increment takes at least this long, so devnet nodes share the machine
    /// (devnet only; default 500).
    #[arg(long, requires = "devnet")]
    min_increment_ms: Option<u64>,
    /// Serve the dashboard, /metrics, /healthz, /readyz and /api/status here (off unless
    /// given; bound as given, so keep it on 127.0.0.1 unless you mean otherwise).
    #[arg(long)]
    http_listen: Option<SocketAddr>,
    /// Not ready when some data worker has not answered for this long (default 300 s;
    /// 10 s with --devnet).
    #[arg(long)]
    ready_workers_secs: Option<u64>,
    /// Not ready when the master clock has not moved for this long (default three frame
    /// intervals plus 10 s).
    #[arg(long)]
    ready_head_secs: Option<u64>,
    /// Stop when this process is gone (`qnode devnet` passes its own pid, so a killed
    /// devnet leaves no nodes behind).
    #[arg(long, hide = true)]
    parent_process: Option<u32>,
    /// Listen addresses, repeatable (default: TCP and QUIC on port 8336, all interfaces).
    #[arg(long)]
    listen: Vec<Multiaddr>,
    /// A peer to join through, `/ip4/…/tcp/…/p2p/<peer id>`, repeatable.
    #[arg(long)]
    bootstrap: Vec<Multiaddr>,
    /// Ignore a peer's reports this long after its last accepted one (default 270 s; 3 s
    /// with --devnet).
    #[arg(long)]
    report_window_secs: Option<u64>,
    /// Peers reporting fewer cores are penalised (default 3; 1 with --devnet).
    #[arg(long)]
    min_peer_cores: Option<u32>,
    /// Peers reporting less memory (bytes) are penalised (default 16 GB; 0 with --devnet).
    #[arg(long)]
    min_peer_memory: Option<u64>,
}

const DEFAULT_LISTEN: [&str; 2] = ["/ip4/0.0.0.0/tcp/8336", "/ip4/0.0.0.0/udp/8336/quic-v1"];

#[derive(Args)]
pub struct WorkerArgs {
    /// The core this worker proves for.
    #[arg(long)]
    core: u32,
    /// Exit when this process is gone.
    #[arg(long)]
    parent_process: Option<u32>,
    /// Listen address (default 127.0.0.1:(40000 + core)).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Divide every difficulty by this (a devnet setting; 1 on a real network).
    #[arg(long, default_value_t = 1)]
    difficulty_divisor: u32,
}

/// Logs to stderr (filtered by `QNODE_LOG`), and keeps the last warnings for the status.
pub(crate) fn init_logging() -> Arc<RecentWarnings> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_env("QNODE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,libp2p_kad=error"));
    // Colours only for a person at a terminal; log files and pipes get plain text.
    let log = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let warnings = Arc::new(RecentWarnings::default());
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(log)
        .with(WarningLayer(warnings.clone()))
        .try_init();
    warnings
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Flips to true on SIGINT or SIGTERM.
pub(crate) async fn shutdown_signal(tx: tokio::sync::watch::Sender<bool>) {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!("cannot watch SIGTERM: {e}");
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
    let _ = tx.send(true);
}

impl RunArgs {
    pub fn run(self) -> Result<ExitCode> {
        let warnings = init_logging();
        let divisor = if self.devnet {
            self.difficulty_divisor.unwrap_or(DEVNET_DIVISOR).max(1)
        } else {
            1
        };
        let workers = if self.worker_addrs.is_empty() {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
            WorkerSource::Local(LocalWorkers {
                program: std::env::current_exe().context("finding the qnode executable")?,
                count: self.workers.unwrap_or(cores.saturating_sub(1)).max(1),
                base_port: self.worker_base_port,
                difficulty_divisor: divisor,
            })
        } else {
            WorkerSource::Remote(self.worker_addrs.clone())
        };
        let seed = self
            .genesis_seed
            .clone()
            .map_or_else(|| DEVNET_SEED.to_vec(), |h| h.0);
        let config = NodeConfig {
            config_dir: self.config_dir.clone(),
            workers,
            devnet_setup_powers: self.devnet.then_some(self.devnet_setup_powers),
            difficulty_divisor: divisor,
            master_difficulty: self.difficulty,
            genesis_seed: frame::network_seed(&seed, self.network),
            filter: frame::DEFAULT_FILTER.to_vec(),
            frame_interval: Duration::from_millis(self.frame_interval_ms),
            worker_timeout: Duration::from_secs(self.worker_timeout_secs),
            network: self.network_settings()?,
            http_listen: self.http_listen,
            warnings,
            health: self.health_rules(),
            min_increment: Duration::from_millis(if self.devnet {
                self.min_increment_ms.unwrap_or(DEVNET_MIN_INCREMENT_MS)
            } else {
                0
            }),
        };
        let parent = self.parent_process;
        runtime()?.block_on(async move {
            let (tx, rx) = tokio::sync::watch::channel(false);
            if let Some(pid) = parent {
                let stop = tx.clone();
                tokio::spawn(async move {
                    qnode_worker::process_exit(pid).await;
                    tracing::warn!(pid, "parent process is gone; stopping");
                    let _ = stop.send(true);
                });
            }
            tokio::spawn(shutdown_signal(tx));
            qnode_node::node::run(config, rx).await
        })?;
        Ok(ExitCode::SUCCESS)
    }
}

impl RunArgs {
    fn health_rules(&self) -> HealthRules {
        let default_workers = if self.devnet { 10 } else { 300 };
        let default_head = 3 * self.frame_interval_ms / 1000 + 10;
        HealthRules {
            workers_window: Duration::from_secs(self.ready_workers_secs.unwrap_or(default_workers)),
            head_window: Duration::from_secs(self.ready_head_secs.unwrap_or(default_head)),
            alone_ok: self.devnet,
        }
    }

    fn network_settings(&self) -> Result<NetworkSettings> {
        let listen = if self.listen.is_empty() {
            DEFAULT_LISTEN
                .iter()
                .map(|a| a.parse().context("default listen address"))
                .collect::<Result<_>>()?
        } else {
            self.listen.clone()
        };
        for address in &self.bootstrap {
            qnode_p2p::bootstrap_peer(address)?;
        }
        let defaults = if self.devnet {
            ReportRules {
                window: DEVNET_REPORT_WINDOW,
                min_cores: 1,
                min_memory: 0,
            }
        } else {
            ReportRules::default()
        };
        Ok(NetworkSettings {
            listen,
            bootstrap: self.bootstrap.clone(),
            report_rules: ReportRules {
                window: self
                    .report_window_secs
                    .map_or(defaults.window, Duration::from_secs),
                min_cores: self.min_peer_cores.unwrap_or(defaults.min_cores),
                min_memory: self.min_peer_memory.unwrap_or(defaults.min_memory),
            },
        })
    }
}

impl WorkerArgs {
    pub fn run(self) -> Result<ExitCode> {
        init_logging();
        let addr = match self.listen {
            Some(a) => a,
            None => qnode_worker::default_address(self.core, 40_000)?,
        };
        let runtime = runtime()?;
        let served = runtime.block_on(qnode_worker::serve(
            addr,
            self.difficulty_divisor,
            self.parent_process,
        ));
        // Do not wait for a proof still being computed: its requester is gone.
        runtime.shutdown_background();
        served?;
        Ok(ExitCode::SUCCESS)
    }
}
