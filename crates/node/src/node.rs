//! `qnode run`: the node's start-up and its long-running tasks — store, master time reel,
//! KZG setup, self-test, data workers, the proof loop and the master frame prover — until
//! shutdown.

use crate::data_workers::{self, LocalWorkers, Supervisor, WorkersError};
use crate::kzg_setup::{self, SetupError};
use crate::master_time_reel::{Genesis, MasterTimeReel, ReelError};
use crate::proof_loop::{ProofLoop, ProofLoopError};
use crate::self_test::{self, SelfTestError};
use qnode_protocol::frame;
use qnode_store::{Store, StoreError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch, Mutex};

/// Where the workers come from.
#[derive(Debug, Clone)]
pub enum WorkerSource {
    /// Spawn and supervise local worker processes.
    Local(LocalWorkers),
    /// Use running workers at these gRPC endpoints (`http://host:port`).
    Remote(Vec<String>),
}

/// Everything `run` needs.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Store, keys, setup and reports live here.
    pub config_dir: PathBuf,
    /// The workers.
    pub workers: WorkerSource,
    /// A devnet generates a local KZG setup of this many powers when none exists.
    pub devnet_setup_powers: Option<usize>,
    /// Divides every difficulty (1 on a real network; a devnet setting).
    pub difficulty_divisor: u32,
    /// Master clock difficulty before the divisor.
    pub master_difficulty: u32,
    /// Genesis seed (network byte already applied).
    pub genesis_seed: Vec<u8>,
    /// The master clock filter.
    pub filter: Vec<u8>,
    /// How often the master prover extends the clock when nothing else happens.
    pub frame_interval: Duration,
    /// A worker call slower than this counts as hung.
    pub worker_timeout: Duration,
}

/// Why the node stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// See the store's message.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// See the reel's message.
    #[error(transparent)]
    Reel(#[from] ReelError),
    /// See the setup's message.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// See the self-test's message.
    #[error(transparent)]
    SelfTest(#[from] SelfTestError),
    /// See the workers' message.
    #[error(transparent)]
    Workers(#[from] WorkersError),
    /// See the proof loop's message.
    #[error(transparent)]
    ProofLoop(#[from] ProofLoopError),
    /// The peer id file could not be read or written.
    #[error("peer id file {path}: {cause}")]
    PeerId {
        /// The file.
        path: PathBuf,
        /// What failed.
        cause: String,
    },
}

/// The file holding this node's peer id (32 random bytes, hex). An interim identity until
/// the network layer brings the node's key pair.
pub const PEER_ID_FILE: &str = "peer-id";

/// This node's peer id, created on first use.
pub fn peer_id(config_dir: &Path) -> Result<Vec<u8>, NodeError> {
    let path = config_dir.join(PEER_ID_FILE);
    let fail = |cause: String| NodeError::PeerId {
        path: path.clone(),
        cause,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => hex::decode(text.trim()).map_err(|e| fail(format!("not hex: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut id = [0u8; 32];
            getrandom::fill(&mut id).map_err(|e| fail(e.to_string()))?;
            std::fs::create_dir_all(config_dir).map_err(|e| fail(e.to_string()))?;
            std::fs::write(&path, hex::encode(id)).map_err(|e| fail(e.to_string()))?;
            Ok(id.to_vec())
        }
        Err(e) => Err(fail(e.to_string())),
    }
}

/// Runs the node until `shutdown` becomes true, then stops every task and worker.
pub async fn run(config: NodeConfig, shutdown: watch::Receiver<bool>) -> Result<(), NodeError> {
    let divisor = config.difficulty_divisor.max(1);
    if divisor > 1 {
        tracing::warn!(
            divisor,
            "DEVNET difficulty: every VDF difficulty is divided by {divisor}"
        );
    }
    let master_difficulty = (config.master_difficulty / divisor).max(1);
    let store = Arc::new(Store::open_in(&config.config_dir)?);
    let peer = peer_id(&config.config_dir)?;
    tracing::info!(peer_id = %hex::encode(&peer), dir = %config.config_dir.display(), "starting");
    let genesis = Genesis {
        seed: config.genesis_seed.clone(),
        difficulty: master_difficulty,
    };
    let reel = MasterTimeReel::start(store.clone(), &config.filter, &genesis)?;
    let genesis_output = store
        .frame(&config.filter, 0)?
        .map(|f| f.output)
        .unwrap_or_default();

    let setup = kzg_setup::load(&config.config_dir, config.devnet_setup_powers)?;
    let fingerprint = self_test::Fingerprint::current(master_difficulty, &setup.hash);
    let report = match self_test::load_current(&config.config_dir, &fingerprint) {
        Some(r) => r,
        None => {
            tracing::info!("running the self-test");
            self_test::run(
                &config.config_dir,
                fingerprint,
                &setup.ceremony.setup,
                |step, _, _| {
                    tracing::info!(step, "self-test");
                },
            )?
        }
    };

    let (supervisor, endpoints) = match &config.workers {
        WorkerSource::Local(local) => {
            let s = Supervisor::start(local.clone()).await?;
            let endpoints = s.endpoints();
            (Some(s), endpoints)
        }
        WorkerSource::Remote(list) => (None, list.clone()),
    };
    let mut cores_report = report.to_report();
    cores_report.cores = endpoints.len() as u32 + 1;
    let (reports, mut report_rx) = mpsc::channel(64);
    let proof_loop = ProofLoop {
        store: store.clone(),
        setup: Arc::new(setup.ceremony.setup),
        workers: data_workers::clients(&endpoints)?,
        supervisor: supervisor.clone(),
        peer_id: peer,
        genesis_output,
        difficulty_divisor: divisor,
        report_template: cores_report,
        reports,
        call_timeout: config.worker_timeout,
    };

    let supervise = supervisor
        .clone()
        .map(|s| tokio::spawn(s.supervise(shutdown.clone())));
    let reel = Arc::new(Mutex::new(reel));
    let prover = tokio::spawn(master_prover(
        reel,
        master_difficulty,
        config.frame_interval,
        shutdown.clone(),
    ));
    let network = tokio::spawn(async move {
        // Until the network layer exists, reports are only logged.
        while let Some(r) = report_rx.recv().await {
            tracing::debug!(increment = r.increment, "self-test report ready to publish");
        }
    });
    let result = proof_loop.run(shutdown.clone()).await;

    if let Some(s) = &supervisor {
        s.shutdown().await;
    }
    if let Some(handle) = supervise {
        let _ = handle.await;
    }
    let _ = prover.await;
    network.abort();
    tracing::info!("stopped");
    Ok(result?)
}

/// Extends the master clock every `interval` (the original's 20-second tick).
async fn master_prover(
    reel: Arc<Mutex<MasterTimeReel>>,
    difficulty: u32,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            _ = tokio::time::sleep(interval) => {}
        }
        let head = reel.lock().await.head().clone();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let proved =
            tokio::task::spawn_blocking(move || frame::prove_next(&head, now, difficulty)).await;
        match proved {
            Ok(Ok(next)) => match reel.lock().await.insert(next) {
                Ok(outcome) => tracing::info!(?outcome, "master frame proved"),
                Err(e) => tracing::error!("storing a master frame: {e}"),
            },
            Ok(Err(e)) => tracing::error!("proving a master frame: {e}"),
            Err(e) => tracing::error!("master prover task: {e}"),
        }
    }
}
