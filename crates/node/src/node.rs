//! `qnode run`: the node's start-up and its long-running tasks — store, master time reel,
//! KZG setup, self-test, the network and its services, data workers, the proof loop and
//! the master frame prover — until shutdown.

use crate::challenge_proof_verifier::{ReportHandler, ReportRules};
use crate::channel_listener::ChannelListener;
use crate::data_workers::{self, LocalWorkers, Supervisor, WorkersError};
use crate::health::HealthRules;
use crate::kzg_setup::{self, SetupError};
use crate::master_time_reel::{Genesis, MasterTimeReel, ReelError};
use crate::metrics::Metrics;
use crate::node_identity::{self, IdentityError, KeyPlan};
use crate::peer_info_manager::now_ms;
use crate::peer_info_manager::PeerInfoManager;
use crate::proof_loop::{ProofLoop, ProofLoopError};
use crate::recent_warnings::RecentWarnings;
use crate::self_test::{self, SelfTestError};
use crate::services::Context;
use crate::status::StatusSource;
use crate::{
    bandwidth_test, challenge_proof_verifier, frame_sync, frame_validator, http, master_prover,
    message_subscriber, node_api, self_test_broadcast, status,
};
use qnode_p2p::{Multiaddr, Network, NetworkConfig, NetworkError};
use qnode_store::{Store, StoreError};
use std::net::SocketAddr;
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
    /// Where to listen and whom to join.
    pub network: NetworkSettings,
    /// The shortest time an increment may take (a devnet setting; zero otherwise).
    pub min_increment: Duration,
    /// Serve metrics, health, status and the dashboard here (off when `None`).
    pub http_listen: Option<SocketAddr>,
    /// Serve the node API (gRPC) here (off when `None`).
    pub grpc_listen: Option<SocketAddr>,
    /// How readiness is judged.
    pub health: HealthRules,
    /// Where the log layer keeps recent warnings (shown by status and the dashboard).
    pub warnings: Arc<RecentWarnings>,
    /// Start under a new (or the present) key even though the store holds another peer's
    /// proof chain.
    pub new_identity: bool,
}

/// The node's network settings.
#[derive(Debug, Clone)]
pub struct NetworkSettings {
    /// Listen addresses (TCP and QUIC).
    pub listen: Vec<Multiaddr>,
    /// Bootstrap peers (`…/p2p/<peer id>`).
    pub bootstrap: Vec<Multiaddr>,
    /// How peers' reports are judged.
    pub report_rules: ReportRules,
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
    /// The metrics could not be set up.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
    /// An endpoint could not listen.
    #[error("cannot serve the {what} on {address}: {cause}; choose another address with --{option} (or `{option}` in config.toml)")]
    Bind {
        /// Which endpoint.
        what: &'static str,
        /// The option that sets its address.
        option: &'static str,
        /// The address asked for.
        address: SocketAddr,
        /// The system's error.
        cause: std::io::Error,
    },
    /// The identity or the network failed.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// The key does not fit the stored proof chain (see its message).
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

/// The peer ids whose proof chains a store holds, from a verified read-only copy (no
/// store yet: none). A damaged store stops the start here, before anything is written.
fn stored_chains(config_dir: &Path) -> Result<Vec<Vec<u8>>, NodeError> {
    let path = config_dir.join(qnode_store::STORE_FILE);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let report = Store::open_read_only(&path)?.check()?.into_result(&path)?;
    Ok(report.chains.into_iter().map(|c| c.peer).collect())
}

/// Runs CPU-bound start-up work (verifying a setup, the self-test) off the async threads,
/// so that a signal still stops the start while it runs.
async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Cancelled: the runtime is shutting down, and drops this future with it.
        Err(_) => std::future::pending().await,
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
    // Every check before the first write: the store and key as they are, the ports.
    let dir = config.config_dir.clone();
    let stored = off_runtime(move || stored_chains(&dir)).await?;
    let key_plan = node_identity::plan(&config.config_dir, &stored, config.new_identity)?;
    let http_listener = bind(config.http_listen, "dashboard and metrics", "http-listen").await?;
    let api_listener = bind(config.grpc_listen, "node API", "grpc-listen").await?;
    let swarm = Network::bind(key_plan.key().clone(), &config.network.listen).await?;
    let own = key_plan.key().public().to_peer_id();
    tracing::info!(peer_id = %own, dir = %config.config_dir.display(), "starting");
    let (dir, powers) = (config.config_dir.clone(), config.devnet_setup_powers);
    let setup = off_runtime(move || kzg_setup::load(&dir, powers)).await?;
    let kzg = Arc::new(setup.ceremony.setup);
    // Every check passed: from here the start writes.
    let dir = config.config_dir.clone();
    let store = Arc::new(off_runtime(move || Store::open_in(&dir)).await?);
    if let KeyPlan::Create(key) = &key_plan {
        qnode_p2p::save_identity(&config.config_dir, key)?;
    }
    let genesis = Genesis {
        seed: config.genesis_seed.clone(),
        difficulty: master_difficulty,
    };
    let (reel_store, filter) = (store.clone(), config.filter.clone());
    let reel = off_runtime(move || MasterTimeReel::start(reel_store, &filter, &genesis)).await?;
    let genesis_output = store
        .frame(&config.filter, 0)?
        .map(|f| f.output)
        .unwrap_or_default();

    let fingerprint = self_test::Fingerprint::current(master_difficulty, &setup.hash);
    let report = match self_test::load_current(&config.config_dir, &fingerprint) {
        Some(r) => r,
        None => {
            tracing::info!("running the self-test");
            let (dir, kzg) = (config.config_dir.clone(), kzg.clone());
            off_runtime(move || {
                self_test::run(&dir, fingerprint, &kzg, |step, _, _| {
                    tracing::info!(step, "self-test");
                })
            })
            .await?
        }
    };

    let listener = Arc::new(ChannelListener {
        store: store.clone(),
        filter: config.filter.clone(),
    });
    let mut network_config = NetworkConfig::new(config.network.listen.clone(), listener);
    network_config.bootstrap = config.network.bootstrap.clone();
    let (network, events) = swarm.start(network_config)?;
    network.subscribe(&config.filter).await?;
    let listen: Vec<String> = network
        .listening()
        .iter()
        .map(|a| format!("{a}/p2p/{own}"))
        .collect();
    for address in &listen {
        tracing::info!(%address, "listening");
    }
    let metrics = Arc::new(Metrics::new()?);
    metrics.head_changed(reel.head().frame_number, now_ms());
    let ctx = Arc::new(Context {
        network,
        peers: Arc::new(PeerInfoManager::new()),
        reel: Arc::new(Mutex::new(reel)),
        store: store.clone(),
        filter: config.filter.clone(),
        master_difficulty,
        difficulty_divisor: divisor,
        own,
        metrics: metrics.clone(),
    });

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
    let (reports, report_rx) = mpsc::channel(64);
    let proof_loop = ProofLoop {
        store: store.clone(),
        setup: kzg,
        workers: data_workers::clients(&endpoints)?,
        supervisor: supervisor.clone(),
        peer_id: own.to_bytes(),
        genesis_output,
        difficulty_divisor: divisor,
        report_template: cores_report,
        reports,
        call_timeout: config.worker_timeout,
        min_increment: config.min_increment,
        metrics,
    };

    let local = |l: &Option<tokio::net::TcpListener>| l.as_ref().and_then(|l| l.local_addr().ok());
    let status = Arc::new(StatusSource {
        ctx: ctx.clone(),
        listen,
        http_address: local(&http_listener),
        api_address: local(&api_listener),
        rules: config.health.clone(),
        supervisor: supervisor.clone(),
        workers: endpoints.len(),
        warnings: config.warnings.clone(),
        history: Default::default(),
    });
    let supervise = supervisor
        .clone()
        .map(|s| tokio::spawn(s.supervise(shutdown.clone())));
    let mut services = spawn_network_services(&ctx, &config, events, report_rx, &shutdown);
    let status_task = tokio::spawn(status::run(
        status.clone(),
        config.config_dir.clone(),
        shutdown.clone(),
    ));
    if let Some(listener) = http_listener {
        if let Some(bound) = status.http_address {
            tracing::info!(
                "dashboard at http://{bound}/ (metrics /metrics, health /healthz, /readyz)"
            );
        }
        services.push(http::serve(listener, status.clone(), shutdown.clone()));
    }
    if let Some(listener) = api_listener {
        if let Some(bound) = status.api_address {
            tracing::info!("node API (gRPC) at http://{bound}");
        }
        services.push(node_api::serve(listener, ctx.clone(), shutdown.clone()));
    }
    let result = proof_loop.run(shutdown.clone()).await;

    if let Some(s) = &supervisor {
        s.shutdown().await;
    }
    if let Some(handle) = supervise {
        let _ = handle.await;
    }
    for service in services {
        service.abort();
    }
    // On shutdown the status task writes a last status saying so; give it a moment.
    let status_abort = status_task.abort_handle();
    let _ = tokio::time::timeout(Duration::from_secs(3), status_task).await;
    status_abort.abort();
    if let Err(e) = store.close() {
        tracing::error!("closing the store: {e}");
    }
    tracing::info!("stopped");
    Ok(result?)
}

/// Binds an endpoint's listener, if the endpoint is on.
async fn bind(
    address: Option<SocketAddr>,
    what: &'static str,
    option: &'static str,
) -> Result<Option<tokio::net::TcpListener>, NodeError> {
    let Some(address) = address else {
        return Ok(None);
    };
    tokio::net::TcpListener::bind(address)
        .await
        .map(Some)
        .map_err(|cause| NodeError::Bind {
            what,
            option,
            address,
            cause,
        })
}

/// Starts services 2 and 4–8 around the network, plus sync, the master prover and the
/// report broadcast; every queue between them is bounded.
fn spawn_network_services(
    ctx: &Arc<Context>,
    config: &NodeConfig,
    events: mpsc::Receiver<qnode_p2p::Event>,
    reports: mpsc::Receiver<qnode_protocol::pb::node::SelfTestReport>,
    shutdown: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let (frame_tx, frame_rx) = mpsc::channel(frame_validator::QUEUE_CAPACITY);
    let (verify_tx, verify_rx) = mpsc::channel(challenge_proof_verifier::QUEUE_CAPACITY);
    let (bandwidth_tx, bandwidth_rx) = mpsc::channel(bandwidth_test::QUEUE_CAPACITY);
    let handler = ReportHandler {
        ctx: ctx.clone(),
        rules: config.network.report_rules.clone(),
        verify: verify_tx,
        bandwidth: bandwidth_tx,
    };
    vec![
        tokio::spawn(message_subscriber::run(
            ctx.clone(),
            events,
            frame_tx,
            handler,
        )),
        tokio::spawn(frame_validator::run(ctx.clone(), frame_rx)),
        tokio::spawn(challenge_proof_verifier::run(ctx.clone(), verify_rx)),
        tokio::spawn(bandwidth_test::run(ctx.clone(), bandwidth_rx)),
        tokio::spawn(frame_sync::run(ctx.clone(), shutdown.clone())),
        tokio::spawn(master_prover::run(
            ctx.clone(),
            config.frame_interval,
            shutdown.clone(),
        )),
        tokio::spawn(self_test_broadcast::run(ctx.clone(), reports)),
        tokio::spawn(track_head(ctx.clone())),
    ]
}

/// Keeps the head metric (and when it last moved) current.
async fn track_head(ctx: Arc<Context>) {
    let mut heads = ctx.reel.lock().await.subscribe_heads();
    loop {
        match heads.recv().await {
            Ok(head) => ctx.metrics.head_changed(head.frame_number, now_ms()),
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                let head = ctx.head_number().await;
                ctx.metrics.head_changed(head, now_ms());
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}
