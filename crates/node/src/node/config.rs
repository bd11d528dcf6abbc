//! What `qnode run` is told: directories, workers, difficulty, network, listeners, health
//! rules. The CLI resolves options, environment and `config.toml` into this.

use crate::operator::health::HealthRules;
use crate::operator::recent_warnings::RecentWarnings;
use crate::services::challenge_proof_verifier::ReportRules;
use crate::services::context::ServiceContext;
use crate::services::data_workers::LocalWorkers;
use qnode_identity::KeyType;
use qnode_p2p::Multiaddr;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

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
    /// How long the master prover waits for a new head before it proves from the one it
    /// has (the original's 20 s).
    pub frame_interval: Duration,
    /// The shortest time between two master frames this node proves (a devnet setting;
    /// zero otherwise).
    pub min_frame_interval: Duration,
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
    /// The type of a key the start creates (when the directory has none).
    pub key_type: KeyType,
    /// Handed the node's service context once its network is up (a simulation of many
    /// nodes in one process watches them through it; `None` for `qnode run`).
    pub observer: Option<ContextObserver>,
}

/// See [`NodeConfig::observer`].
#[derive(Clone)]
pub struct ContextObserver(pub Arc<dyn Fn(Arc<ServiceContext>) + Send + Sync>);

impl std::fmt::Debug for ContextObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContextObserver")
    }
}

/// The node's network settings.
#[derive(Debug, Clone)]
pub struct NetworkSettings {
    /// The network id (0 is mainnet); nodes of different networks share nothing.
    pub id: u8,
    /// Listen addresses (TCP and QUIC).
    pub listen: Vec<Multiaddr>,
    /// Bootstrap peers (`…/p2p/<peer id>`).
    pub bootstrap: Vec<Multiaddr>,
    /// How peers' reports are judged.
    pub report_rules: ReportRules,
    /// Discovered peers are dialled while fewer than this many are connected
    /// (`qnode_p2p::DEFAULT_PEER_TARGET` unless a simulation bounds the degree).
    pub peer_target: usize,
}

impl NodeConfig {
    /// The devnet divisor of every difficulty (at least 1).
    pub fn divisor(&self) -> u32 {
        self.difficulty_divisor.max(1)
    }

    /// The master clock difficulty every frame carries, after the divisor.
    pub fn master_difficulty(&self) -> u32 {
        (self.master_difficulty / self.divisor()).max(1)
    }
}

/// A devnet node in `dir` with remote workers and no listeners, for the stages' tests.
#[cfg(test)]
pub(super) fn devnet_config(dir: &std::path::Path) -> NodeConfig {
    NodeConfig {
        config_dir: dir.to_path_buf(),
        workers: WorkerSource::Remote(Vec::new()),
        devnet_setup_powers: Some(128),
        difficulty_divisor: 10_000,
        master_difficulty: 100_000,
        genesis_seed: b"stages".to_vec(),
        filter: qnode_protocol::frame::DEFAULT_FILTER.to_vec(),
        frame_interval: Duration::from_secs(1),
        min_frame_interval: Duration::ZERO,
        worker_timeout: Duration::from_secs(20),
        network: NetworkSettings {
            id: 0,
            listen: vec!["/ip4/127.0.0.1/tcp/0".parse().expect("an address")],
            bootstrap: Vec::new(),
            report_rules: ReportRules::default(),
            peer_target: qnode_p2p::DEFAULT_PEER_TARGET,
        },
        min_increment: Duration::ZERO,
        http_listen: None,
        grpc_listen: None,
        health: HealthRules {
            workers_window: Duration::from_secs(60),
            head_window: Duration::from_secs(60),
            alone_ok: true,
            min_free_bytes: 0,
        },
        warnings: Arc::default(),
        new_identity: false,
        key_type: KeyType::Ed448,
        observer: None,
    }
}
