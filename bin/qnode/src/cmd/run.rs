//! `qnode run` and `qnode worker`.

use crate::logging::{self, LogFileSettings};
use anyhow::{Context, Result};
use clap::Args;
use qnode_node::{NodeConfig, Process};
use qnode_options::{self as config, ConfigDir, LogFormat, Settings, DEFAULT_WORKER_BASE_PORT};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    dir: ConfigDir,
    #[command(flatten)]
    settings: Settings,
    /// Stop when this process is gone (`qnode devnet` passes its own pid, so a killed
    /// devnet leaves no nodes behind).
    #[arg(long, hide = true)]
    parent_process: Option<u32>,
    /// Start even though the store holds the proof chain of another peer than node-key's
    /// (or node-key is missing): a new identity and a new chain, on purpose. The old chain
    /// stays in the store. Without this, such a start is refused.
    #[arg(long)]
    new_identity: bool,
}

#[derive(Args)]
pub struct WorkerArgs {
    /// The core this worker proves for.
    #[arg(long)]
    core: u32,
    /// Exit when this process is gone.
    #[arg(long)]
    parent_process: Option<u32>,
    /// Listen address (default 127.0.0.1:(28000 + core), as `qnode run`'s workers).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Divide every difficulty by this (a devnet setting; 1 on a real network).
    #[arg(long, default_value_t = 1)]
    difficulty_divisor: u32,
    /// Run this much nicer than the process that starts it, 0 to 19 (as `nice -n`). The
    /// node starts its own workers at 10, below its networking; a worker serving another
    /// node, an original one say, runs at normal priority like that node's own workers.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i32).range(0..=19))]
    niceness: i32,
    /// How its log lines are written on stderr, `text` or `json` (the node passes its own).
    #[arg(long, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Watches SIGINT and SIGTERM from this moment (so that none meets the default action,
/// which kills the process mid-write) and flips `tx` to true on the first. Needs the
/// runtime.
pub(crate) fn watch_shutdown_signals(tx: tokio::sync::watch::Sender<bool>) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("watching SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("watching SIGINT")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down");
        let _ = tx.send(true);
    });
    Ok(())
}

/// How long the node has to stop on its own once asked to. Start-up waits (for workers,
/// a setup, a self-test) do not all watch the signal, so past this the start is dropped:
/// the store is crash-safe and the workers exit with their parent. A running node stops
/// in well under 0.1 s; the rest is margin under the 2 s an operator is promised.
const STOP_GRACE: Duration = Duration::from_secs(1);

/// Runs `node` to its end, or until `STOP_GRACE` after the shutdown signal.
async fn stop_within_grace<T, E>(
    node: impl std::future::Future<Output = Result<T, E>>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> Result<(), E> {
    tokio::pin!(node);
    tokio::select! {
        result = &mut node => return result.map(|_| ()),
        _ = shutdown.wait_for(|stop| *stop) => {}
    }
    match tokio::time::timeout(STOP_GRACE, node).await {
        Ok(result) => result.map(|_| ()),
        Err(_) => {
            tracing::warn!("stopped before start-up finished");
            Ok(())
        }
    }
}

impl RunArgs {
    pub fn run(self) -> Result<ExitCode> {
        let config_dir = self.dir.path()?;
        let file = config::file::load(&config_dir)?;
        let resolved = self.settings.or(file).resolve()?;
        let log_file = resolved
            .log_file
            .path(&config_dir)
            .map(|path| {
                logging::open(&LogFileSettings {
                    path,
                    max_size: resolved.log_file_max_size,
                    max_files: resolved.log_file_max_files,
                })
            })
            .transpose()?;
        let logs = logging::init(resolved.log_format, log_file);
        crate::rlimit::raise_open_file_limit();
        let process = Process {
            program: std::env::current_exe().context("finding the qnode executable")?,
            log_relay: Some(logs.relay),
            warnings: logs.warnings,
        };
        let config = NodeConfig {
            new_identity: self.new_identity,
            ..NodeConfig::from_options(&resolved, config_dir, process)
        };
        let parent = self.parent_process;
        let runtime = runtime()?;
        let result = runtime.block_on(async move {
            let (tx, rx) = tokio::sync::watch::channel(false);
            if let Some(pid) = parent {
                let stop = tx.clone();
                tokio::spawn(async move {
                    qnode_worker::process_exit(pid).await;
                    tracing::warn!(pid, "parent process is gone; stopping");
                    let _ = stop.send(true);
                });
            }
            watch_shutdown_signals(tx)?;
            stop_within_grace(qnode_node::run(config, rx.clone()), rx)
                .await
                .map_err(anyhow::Error::from)
        });
        // A start stopped part way may leave a self-test or setup check running on a
        // blocking thread: do not wait for it (nothing it writes is half-written).
        runtime.shutdown_background();
        result?;
        Ok(ExitCode::SUCCESS)
    }
}

impl WorkerArgs {
    pub fn run(self) -> Result<ExitCode> {
        logging::init(self.log_format, None);
        // Before the runtime starts its threads, so that every one inherits it.
        if let Err(e) = qnode_compute::lower_calling_thread(self.niceness) {
            tracing::warn!(error = %e, niceness = self.niceness, "could not lower the worker's priority");
        }
        let addr = match self.listen {
            Some(a) => a,
            None => qnode_worker::default_address(self.core, DEFAULT_WORKER_BASE_PORT)?,
        };
        let runtime = runtime()?;
        let prover = qnode_worker::ChallengeProver {
            core: self.core,
            difficulty_divisor: self.difficulty_divisor,
        };
        let served = runtime.block_on(qnode_worker::serve(addr, prover, self.parent_process));
        // Do not wait for a proof still being computed: its requester is gone.
        runtime.shutdown_background();
        served?;
        Ok(ExitCode::SUCCESS)
    }
}
