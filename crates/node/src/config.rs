//! What `qnode run` is told: directories, workers, difficulty, network, listeners, health
//! rules, made from resolved options by [`NodeConfig::from_options`].

use qnode_identity::KeyType;
use qnode_operator::health::HealthRules;
use qnode_operator::recent_warnings::RecentWarnings;
use qnode_options::Resolved;
use qnode_p2p::Multiaddr;
use qnode_protocol::frame;
use qnode_services::challenge_proof_verifier::ReportRules;
use qnode_services::context::ServiceContext;
use qnode_services::data_workers::{LocalWorkers, LogRelay};
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

/// What a node takes from the process that runs it, beside its options.
#[derive(Debug, Clone, Default)]
pub struct Process {
    /// The `qnode` executable, run as `qnode worker` for local workers (unused when the
    /// options name running workers).
    pub program: PathBuf,
    /// Where local workers' log lines go (see [`LocalWorkers::log_relay`]).
    pub log_relay: Option<LogRelay>,
    /// Where the log layer keeps recent warnings.
    pub warnings: Arc<RecentWarnings>,
}

impl NodeConfig {
    /// The one way a node's config is made: from options resolved as `qnode run` resolves
    /// its flags, environment and `config.toml` (and `qnode devnet` runs `qnode run`). The
    /// simulator and the tests resolve their options the same way, then set what only a
    /// process of many nodes has (a peer target, an observer).
    pub fn from_options(r: &Resolved, config_dir: PathBuf, process: Process) -> NodeConfig {
        let divisor = if r.devnet { r.difficulty_divisor } else { 1 };
        let devnet_only = |value: u64| Duration::from_millis(if r.devnet { value } else { 0 });
        NodeConfig {
            config_dir,
            workers: worker_source(r, divisor, process.program, process.log_relay),
            devnet_setup_powers: r.devnet.then_some(r.devnet_setup_powers),
            difficulty_divisor: divisor,
            master_difficulty: r.difficulty,
            genesis_seed: frame::network_seed(&r.genesis_seed, r.network),
            filter: frame::DEFAULT_FILTER.to_vec(),
            frame_interval: Duration::from_millis(r.frame_interval_ms),
            min_frame_interval: devnet_only(r.min_frame_interval_ms),
            worker_timeout: Duration::from_secs(r.worker_timeout_secs),
            network: NetworkSettings {
                id: r.network,
                listen: r.listen.clone(),
                bootstrap: r.bootstrap.clone(),
                report_rules: r.report_rules(),
                peer_target: qnode_p2p::DEFAULT_PEER_TARGET,
            },
            min_increment: devnet_only(r.min_increment_ms),
            http_listen: r.http_listen.address(),
            grpc_listen: r.grpc_listen.address(),
            health: r.health_rules(),
            warnings: process.warnings,
            new_identity: false,
            // A node started without `qnode init` gets the original's key type.
            key_type: KeyType::Ed448,
            observer: None,
        }
    }
}

/// The workers the options name, or local ones run from `program`.
fn worker_source(
    r: &Resolved,
    divisor: u32,
    program: PathBuf,
    log_relay: Option<LogRelay>,
) -> WorkerSource {
    if !r.worker_addr.is_empty() {
        return WorkerSource::Remote(r.worker_addr.clone());
    }
    WorkerSource::Local(LocalWorkers {
        program,
        count: r.workers,
        base_port: r.worker_base_port,
        difficulty_divisor: divisor,
        log_args: vec!["--log-format".into(), r.log_format.to_string()],
        log_relay,
    })
}

/// A devnet node in `dir` with running workers (none answer) and no listeners but P2P on
/// a port the OS picks, for the stages' tests.
#[cfg(test)]
pub(super) fn devnet_config(dir: &std::path::Path) -> NodeConfig {
    let settings = qnode_options::Settings {
        devnet: Some(true),
        worker_addr: vec!["http://127.0.0.1:9".into()],
        listen: vec!["/ip4/127.0.0.1/tcp/0".parse().expect("an address")],
        http_listen: Some(qnode_options::Endpoint::Off),
        grpc_listen: Some(qnode_options::Endpoint::Off),
        genesis_seed: Some(qnode_options::Hex(b"stages".to_vec())),
        devnet_setup_powers: Some(128),
        ..qnode_options::Settings::default()
    };
    let resolved = settings.resolve().expect("a devnet's options");
    NodeConfig::from_options(&resolved, dir.to_path_buf(), Process::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_become_a_node_config_with_devnet_rules_only_on_a_devnet() {
        let dir = tempfile::tempdir().unwrap();
        let devnet = devnet_config(dir.path());
        assert_eq!(devnet.divisor(), 10_000);
        assert_eq!(devnet.master_difficulty(), 10);
        assert_eq!(devnet.devnet_setup_powers, Some(128));
        assert!(matches!(&devnet.workers, WorkerSource::Remote(a) if a.len() == 1));
        assert!(devnet.health.alone_ok);
        assert_eq!((devnet.http_listen, devnet.grpc_listen), (None, None));

        let real = qnode_options::Settings::default().resolve().unwrap();
        let program = PathBuf::from("/usr/bin/qnode");
        let process = Process {
            program: program.clone(),
            ..Process::default()
        };
        let node = NodeConfig::from_options(&real, dir.path().to_path_buf(), process);
        assert_eq!(node.divisor(), 1);
        assert_eq!(node.devnet_setup_powers, None);
        assert_eq!(node.min_increment, Duration::ZERO);
        assert!(!node.health.alone_ok);
        match node.workers {
            WorkerSource::Local(local) => {
                assert_eq!(local.program, program);
                assert_eq!(local.difficulty_divisor, 1);
            }
            WorkerSource::Remote(_) => panic!("no worker addresses: local workers"),
        }
    }
}
