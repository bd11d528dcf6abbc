//! What the network services share: the network handle, the peer-info manager, the time
//! reel, the store, the network's parameters, and the metrics.

use crate::master_time_reel::{Insertion, MasterTimeReel, ReelError};
use crate::peer_info_manager::PeerInfoManager;
use qnode_metrics::Metrics;
use qnode_p2p::{Network, PeerId};
use qnode_protocol::clock::now_ms;
use qnode_protocol::pb::clock::ClockFrame;
use qnode_store::{Store, StoreError};
use std::sync::Arc;
use tokio::sync::{broadcast, Mutex};

/// Shared by every network service.
pub struct ServiceContext {
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
    /// Metrics and health facts.
    pub metrics: Arc<Metrics>,
}

impl ServiceContext {
    /// Records an offence of `peer`, tells BlossomSub its new score, and logs why.
    pub async fn penalize(&self, peer: PeerId, reason: &str) {
        let score = self.peers.penalize(peer);
        tracing::warn!(%peer, score, "peer penalised: {reason}");
        self.network.set_score(peer, score as f64).await;
    }

    /// The reel's head frame number.
    pub async fn head_number(&self) -> u64 {
        self.reel.lock().await.head().frame_number
    }

    /// Offers a frame to the reel. A store write that fails (a full disk) leaves the head
    /// where it was and is reported at ERROR and in readiness; the frame comes again with
    /// the next proof or sync, so the reel retries by itself.
    pub async fn insert_frame(&self, frame: ClockFrame) -> Result<Insertion, ReelError> {
        // The insert commits to the store (an fsync): on a blocking thread, never on the
        // runtime's, which carry every peer's messages and bandwidth echoes.
        let mut reel = self.reel.clone().lock_owned().await;
        let inserted = tokio::task::spawn_blocking(move || reel.insert(frame))
            .await
            .unwrap_or_else(|e| Err(ReelError::Writer(e)));
        match &inserted {
            Err(ReelError::Store(e @ StoreError::Io { .. })) => {
                tracing::error!("cannot store a master clock frame: {e}");
                self.metrics.store_write(Some(e.to_string()));
            }
            Err(e) => tracing::error!("master clock frame: {e}"),
            Ok(Insertion::NewHead(_)) if self.metrics.store_write_failure().is_some() => {
                tracing::info!("store writable again");
                self.metrics.store_write(None);
            }
            _ => {}
        }
        inserted
    }

    /// Keeps the head metric (and when it last moved) current, until the reel closes.
    pub async fn track_head(self: Arc<Self>) {
        let mut heads = self.reel.lock().await.subscribe_heads();
        loop {
            match heads.recv().await {
                Ok(head) => self.metrics.head_changed(head.frame_number, now_ms()),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let head = self.head_number().await;
                    self.metrics.head_changed(head, now_ms());
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}
