//! What the network services share: the network handle, the peer-info manager, the time
//! reel, the store, the network's parameters, and counters for status and tests.

use crate::master_time_reel::MasterTimeReel;
use crate::peer_info_manager::PeerInfoManager;
use qnode_p2p::{Network, PeerId};
use qnode_store::Store;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Mutex;

/// Counters of what the services did since start.
#[derive(Debug, Default)]
pub struct Counters {
    /// Frames from gossip that advanced or extended the reel.
    pub frames_from_gossip: AtomicU64,
    /// Frames received by sync and inserted.
    pub frames_synced: AtomicU64,
    /// Frames refused as invalid (bad VDF, shape, difficulty, parent).
    pub frames_rejected: AtomicU64,
    /// Peers' challenge proofs that verified.
    pub reports_verified: AtomicU64,
    /// Peers' reports refused (bad proof, below the minimums, failed verification).
    pub reports_rejected: AtomicU64,
    /// Bandwidth tests passed.
    pub bandwidth_tests_passed: AtomicU64,
    /// Bandwidth tests failed (no answer, wrong echo, too slow).
    pub bandwidth_tests_failed: AtomicU64,
    /// Gossip messages ignored because of their author's score.
    pub messages_ignored: AtomicU64,
}

/// A snapshot of [`Counters`].
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
#[allow(missing_docs)] // the same fields as `Counters`
pub struct CounterValues {
    pub frames_from_gossip: u64,
    pub frames_synced: u64,
    pub frames_rejected: u64,
    pub reports_verified: u64,
    pub reports_rejected: u64,
    pub bandwidth_tests_passed: u64,
    pub bandwidth_tests_failed: u64,
    pub messages_ignored: u64,
}

impl Counters {
    /// Adds one.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The current values.
    pub fn values(&self) -> CounterValues {
        let v = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterValues {
            frames_from_gossip: v(&self.frames_from_gossip),
            frames_synced: v(&self.frames_synced),
            frames_rejected: v(&self.frames_rejected),
            reports_verified: v(&self.reports_verified),
            reports_rejected: v(&self.reports_rejected),
            bandwidth_tests_passed: v(&self.bandwidth_tests_passed),
            bandwidth_tests_failed: v(&self.bandwidth_tests_failed),
            messages_ignored: v(&self.messages_ignored),
        }
    }
}

/// Shared by every network service.
pub struct Context {
    /// The swarm.
    pub network: Network,
    /// What we know of peers.
    pub peers: Arc<PeerInfoManager>,
    /// The master clock.
    pub reel: Arc<Mutex<MasterTimeReel>>,
    /// The store.
    pub store: Arc<Store>,
    /// The master clock filter (gossip topic and frame filter).
    pub filter: Vec<u8>,
    /// The master clock difficulty every frame must carry (after any devnet divisor).
    pub master_difficulty: u32,
    /// The devnet divisor of challenge-proof difficulties (1 on a real network).
    pub difficulty_divisor: u32,
    /// This node.
    pub own: PeerId,
    /// What happened so far.
    pub counters: Counters,
}

impl Context {
    /// Records an offence of `peer`, tells gossipsub its new score, and logs why.
    pub async fn penalize(&self, peer: PeerId, reason: &str) {
        let score = self.peers.penalize(peer);
        tracing::warn!(%peer, score, "peer penalised: {reason}");
        self.network.set_score(peer, score as f64).await;
    }

    /// The reel's head frame number.
    pub async fn head_number(&self) -> u64 {
        self.reel.lock().await.head().frame_number
    }
}
