//! The node's status, written to `CONFIG/status.json` every second (atomically: a temp
//! file renamed over the old one) for `qnode devnet`'s table and for tests: head, latest
//! increment, peers fastest first with scores, and what the services did.

use crate::peer_info_manager::{now_ms, PeerInfo};
use crate::services::{Context, CounterValues};
use serde::{Deserialize, Serialize};
use sha3::{Digest, Sha3_256};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The file's name in the config directory.
pub const STATUS_FILE: &str = "status.json";
const EVERY: Duration = Duration::from_secs(1);

/// One peer in the status.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerStatus {
    /// What the peer-info manager knows.
    #[serde(flatten)]
    pub info: PeerInfo,
    /// Gossipsub's score of it (our score × 10 plus gossipsub's own), if connected.
    pub gossip_score: Option<f64>,
}

/// What `status.json` holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Status {
    /// This node (base58).
    pub peer_id: String,
    /// Where it listens.
    pub listen: Vec<String>,
    /// The master clock head.
    pub head_frame: u64,
    /// Hex of the first 8 bytes of SHA3-256 of the head's output: equal heads, equal
    /// chains (a frame's output fixes every frame before it).
    pub head_output: String,
    /// The latest stored increment of the proof chain.
    pub increment: Option<u32>,
    /// Peers, fastest first.
    pub peers: Vec<PeerStatus>,
    /// What the network services did since start.
    pub counters: CounterValues,
    /// When this was written (ms since the epoch).
    pub updated_ms: i64,
}

/// The last status a node in `config_dir` wrote, if readable.
pub fn read(config_dir: &Path) -> Option<Status> {
    let text = std::fs::read_to_string(config_dir.join(STATUS_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

async fn snapshot(ctx: &Context, listen: &[String]) -> Status {
    let scores = ctx.network.scores().await.unwrap_or_default();
    let peers = ctx
        .peers
        .sorted_by_bandwidth()
        .into_iter()
        .filter(|info| info.peer_id != ctx.own.to_base58())
        .map(|info| PeerStatus {
            gossip_score: scores
                .iter()
                .find(|(peer, _)| peer.to_base58() == info.peer_id)
                .map(|(_, score)| *score),
            info,
        })
        .collect();
    let increment = ctx
        .store
        .latest_data_time_proof(&ctx.own.to_bytes())
        .ok()
        .flatten()
        .map(|latest| latest.increment);
    let head = ctx.reel.lock().await.head().clone();
    Status {
        peer_id: ctx.own.to_base58(),
        listen: listen.to_vec(),
        head_frame: head.frame_number,
        head_output: hex::encode(&Sha3_256::digest(&head.output)[..8]),
        increment,
        peers,
        counters: ctx.counters.values(),
        updated_ms: now_ms(),
    }
}

fn write(config_dir: &Path, status: &Status) -> std::io::Result<()> {
    let temp = config_dir.join(format!("{STATUS_FILE}.tmp"));
    std::fs::write(&temp, serde_json::to_vec_pretty(status)?)?;
    std::fs::rename(temp, config_dir.join(STATUS_FILE))
}

/// Rewrites the status every second until shutdown.
pub async fn run(
    ctx: Arc<Context>,
    config_dir: std::path::PathBuf,
    listen: Vec<String>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let status = snapshot(&ctx, &listen).await;
        if let Err(e) = write(&config_dir, &status) {
            tracing::warn!("writing {}: {e}", config_dir.join(STATUS_FILE).display());
        }
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}
