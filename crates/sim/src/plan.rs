//! What a simulation starts: where its nodes live, how they find each other, how fast they
//! go, and each node's options, resolved as `qnode run` resolves an operator's.

use crate::pace::Pace;
use anyhow::{Context, Result};
use qnode_node::{ContextObserver, NodeConfig, Process};
use qnode_options::{ByteSize, Endpoint, Hex, Settings};
use qnode_protocol::frame;
use qnode_services::context::ServiceContext;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Every difficulty divided by this: cheap proofs, as on a devnet.
pub(crate) const DIFFICULTY_DIVISOR: u32 = 10_000;
/// The devnet's setup size: every size the self-test and the proof loop ask for.
pub(crate) const SETUP_POWERS: usize = 128;
/// Every simulated node's genesis seed (before the network byte).
const SIM_SEED: &[u8] = b"qnode sim";
/// The gossip mesh alone may keep [`qnode_p2p::MESH_PEERS_MAX`] peers, and trimming spares
/// them and the bootstrap peers, so a smaller peer target could not hold.
const MIN_PEER_TARGET: usize = qnode_p2p::MESH_PEERS_MAX + 4;

/// What to start.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Node I lives in `dir/node-I`.
    pub dir: PathBuf,
    /// Each node bootstraps to at most this many of the nodes started before it, and
    /// dials the peers it discovers up to twice this many.
    pub degree: usize,
    /// Picks the bootstrap peers: the same seed builds the same topology.
    pub seed: u64,
    /// Milliseconds without a new head before a node proves the next master frame.
    pub frame_interval: Duration,
    /// How fast the nodes may go so that all fit on this machine.
    pub pace: Pace,
    /// Changes each node's options before they are resolved.
    pub tweak: Tweak,
}

/// A change to node I's options (a test's network id, an extra bootstrap peer, HTTP on),
/// made before they are resolved.
#[derive(Clone, Default)]
pub struct Tweak(pub Option<Arc<TweakFn>>);

/// What a [`Tweak`] runs: node I's index and its options.
pub type TweakFn = dyn Fn(usize, &mut Settings) + Send + Sync;

impl Tweak {
    /// `change` applied to every node's options.
    pub fn new(change: impl Fn(usize, &mut Settings) + Send + Sync + 'static) -> Tweak {
        Tweak(Some(Arc::new(change)))
    }

    /// Every node's HTTP listener and node API on, on ports the OS gives (each node's
    /// `status.json` says where).
    pub fn operator_listeners() -> Tweak {
        let any_port = Endpoint::At(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        Tweak::new(move |_, options| {
            options.http_listen = Some(any_port);
            options.grpc_listen = Some(any_port);
        })
    }
}

impl std::fmt::Debug for Tweak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Tweak(..)"
        } else {
            "Tweak(none)"
        })
    }
}

impl Plan {
    /// A node dials what Kademlia finds until it has this many peers, so its degree
    /// stays bounded however many nodes there are, as in a real network. (Peers that dial
    /// in are accepted up to the ceiling; so the forgers, which dial everyone, add theirs.)
    /// Not below [`MIN_PEER_TARGET`].
    fn peer_target(&self) -> usize {
        (2 * self.degree).max(MIN_PEER_TARGET)
    }

    pub(crate) fn node_config(
        &self,
        index: usize,
        dir: PathBuf,
        worker: u16,
        bootstrap: Vec<qnode_p2p::Multiaddr>,
        context: &Arc<OnceLock<Arc<ServiceContext>>>,
    ) -> Result<NodeConfig> {
        let slot = context.clone();
        let listen = "/ip4/127.0.0.1/tcp/0";
        // A devnet node's options, as an operator would give them to `qnode run`.
        let mut settings = Settings {
            devnet: Some(true),
            worker_addr: vec![format!("http://127.0.0.1:{worker}")],
            worker_timeout_secs: Some(30),
            listen: vec![listen.parse().context("a listen address")?],
            bootstrap,
            http_listen: Some(Endpoint::Off),
            grpc_listen: Some(Endpoint::Off),
            min_free_space: Some(ByteSize(0)),
            genesis_seed: Some(Hex(SIM_SEED.to_vec())),
            difficulty_divisor: Some(DIFFICULTY_DIVISOR),
            devnet_setup_powers: Some(SETUP_POWERS),
            frame_interval_ms: Some(
                u64::try_from(self.frame_interval.as_millis()).unwrap_or(u64::MAX),
            ),
            min_frame_interval_ms: Some(self.pace.min_frame_interval_ms),
            min_increment_ms: Some(self.pace.min_increment_ms),
            report_window_secs: Some(self.pace.report_window_secs),
            ..Settings::default()
        };
        if let Some(tweak) = &self.tweak.0 {
            tweak(index, &mut settings);
        }
        let resolved = settings.resolve()?;
        let mut config = NodeConfig::from_options(&resolved, dir, Process::default());
        // What only a process of many nodes has: a bounded degree, and a watcher.
        config.network.peer_target = self.peer_target();
        config.observer = Some(ContextObserver(Arc::new(move |ctx| {
            // A node's network comes up once per run.
            let _ = slot.set(ctx);
        })));
        Ok(config)
    }
}

/// The master clock difficulty every frame of a simulation carries.
pub fn master_difficulty() -> u32 {
    (frame::DEFAULT_DIFFICULTY / DIFFICULTY_DIVISOR).max(1)
}
