//! The node's status, written to `CONFIG/status.json` every second (atomically: a temp
//! file renamed over the old one) for `qnode devnet`'s table and for tests: head, latest
//! increment, peers fastest first with scores, and what the services did.

use crate::health::{readiness, HealthRules, Readiness};
use crate::history::{History, PeerSample, Sample};
use crate::recent_warnings::{RecentWarnings, Warning};
use qnode_metrics::{IncrementSplit, Metrics};
use qnode_protocol::clock::now_ms;
use qnode_services::context::ServiceContext;
use qnode_services::data_workers::Supervisor;
use qnode_services::frame_validator::REJECT_REASONS;
use qnode_services::peer_info_manager::PeerInfo;
use qnode_tasks::{TaskBoard, TaskState};
use serde::{Deserialize, Serialize};
use sha3::{Digest, Sha3_256};
use std::net::SocketAddr;
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
    /// BlossomSub's score of it (our score × 10, as the original weighs it), if connected.
    pub gossip_score: Option<f64>,
    /// Its bandwidth and score over the last ten minutes (`/api/status` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<PeerSample>,
}

/// What the network services did since start (from the metrics).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CounterValues {
    /// Frames from gossip that advanced or extended the reel.
    pub frames_from_gossip: u64,
    /// Frames received by sync and inserted.
    pub frames_synced: u64,
    /// Frames refused as invalid.
    pub frames_rejected: u64,
    /// Peers' challenge proofs that verified.
    pub reports_verified: u64,
    /// Peers' reports refused.
    pub reports_rejected: u64,
    /// Bandwidth tests passed.
    pub bandwidth_tests_passed: u64,
    /// Bandwidth tests failed.
    pub bandwidth_tests_failed: u64,
    /// Gossip ignored because of its author's score.
    pub messages_ignored: u64,
    /// Gossip of a type this version does not know, ignored (a newer peer's, no offence).
    #[serde(default)]
    pub unknown_messages: u64,
}

impl CounterValues {
    /// Reads the counters off the metrics.
    pub fn of(m: &Metrics) -> CounterValues {
        let frames =
            |source: &str, outcome: &str| m.frames.with_label_values(&[source, outcome]).get();
        let rejected = ["gossip", "sync"]
            .iter()
            .flat_map(|source| {
                REJECT_REASONS
                    .iter()
                    .map(move |reason| frames(source, reason))
            })
            .sum();
        CounterValues {
            frames_from_gossip: frames("gossip", "accepted"),
            frames_synced: frames("sync", "accepted"),
            frames_rejected: rejected,
            reports_verified: m.reports.with_label_values(&["verified"]).get(),
            reports_rejected: m.reports.with_label_values(&["rejected"]).get(),
            bandwidth_tests_passed: m.bandwidth_tests.with_label_values(&["passed"]).get(),
            bandwidth_tests_failed: m.bandwidth_tests.with_label_values(&["failed"]).get(),
            messages_ignored: m
                .messages_ignored
                .with_label_values(&["author_score"])
                .get(),
            unknown_messages: m
                .messages_ignored
                .with_label_values(&["unknown_type"])
                .get(),
        }
    }
}

/// What `status.json` holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Status {
    /// This node (base58).
    pub peer_id: String,
    /// Where it listens.
    pub listen: Vec<String>,
    /// Where the dashboard and metrics are served, if on.
    #[serde(default)]
    pub http_address: Option<SocketAddr>,
    /// Where the node API (gRPC) is served, if on.
    #[serde(default)]
    pub api_address: Option<SocketAddr>,
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
    /// Total reward of the proof chain (1 200 000 × parallelism per increment, as the
    /// original counts it), decimal.
    pub reward: String,
    /// Data workers in use.
    pub workers: usize,
    /// Data worker restarts since start.
    pub worker_restarts: u64,
    /// Readiness and what is wrong.
    pub readiness: Readiness,
    /// Where the last increment's time went.
    pub last_increment_ms: IncrementSplit,
    /// The last warnings and errors logged, oldest first.
    pub recent_warnings: Vec<Warning>,
    /// The node's tasks: policy, whether each runs, restarts, last failure.
    #[serde(default)]
    pub tasks: Vec<TaskState>,
    /// Recent samples, oldest first, one per status write (at most [`crate::history::NODE_SAMPLES`]); only
    /// in `/api/status`, not in the file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Sample>,
    /// When this was written (ms since the epoch).
    pub updated_ms: i64,
    /// Written by a node that was shutting down: it is not running any more.
    #[serde(default)]
    pub stopped: bool,
}

/// What a status is made of.
pub struct StatusSource {
    /// The services' shared state.
    pub ctx: Arc<ServiceContext>,
    /// Listen addresses with the peer id.
    pub listen: Vec<String>,
    /// Where the dashboard and metrics are served, if on.
    pub http_address: Option<SocketAddr>,
    /// Where the node API is served, if on.
    pub api_address: Option<SocketAddr>,
    /// How readiness is judged.
    pub rules: HealthRules,
    /// The local workers' supervisor, if workers are local.
    pub supervisor: Option<Arc<Supervisor>>,
    /// How many workers the proof loop uses.
    pub workers: usize,
    /// Warnings the log layer kept.
    pub warnings: Arc<RecentWarnings>,
    /// The node's tasks as their supervisor sees them.
    pub tasks: TaskBoard,
    /// Samples taken by [`run`].
    pub history: std::sync::Mutex<History>,
}

/// The last status a node in `config_dir` wrote, if readable.
pub fn read(config_dir: &Path) -> Option<Status> {
    let text = std::fs::read_to_string(config_dir.join(STATUS_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

impl StatusSource {
    /// The node's status now, with the dashboard's chart history.
    pub async fn snapshot_with_history(&self) -> Status {
        let mut status = self.snapshot().await;
        let history = self.history();
        status.history = history.node();
        for peer in &mut status.peers {
            peer.history = history.peer(&peer.info.peer_id);
        }
        drop(history);
        status
    }

    /// The node's status now; also refreshes the sampled gauges.
    pub async fn snapshot(&self) -> Status {
        let ctx = &self.ctx;
        let restarts = self.supervisor.as_ref().map_or(0, |s| s.restarts());
        let metrics = &ctx.metrics;
        metrics.worker_restarts.set(restarts as i64);
        if let Ok(meta) = std::fs::metadata(ctx.store.path()) {
            metrics.store_bytes.set(meta.len() as i64);
        }
        let mut status = snapshot(ctx, &self.listen).await;
        metrics
            .peers
            .set(status.peers.iter().filter(|p| p.info.connected).count() as i64);
        // Only the peers known now: a forgotten peer's series goes with it.
        metrics.peer_score.reset();
        for peer in &status.peers {
            metrics
                .peer_score
                .with_label_values(&[&peer.info.peer_id.to_base58()])
                .set(peer.info.score);
        }
        status.http_address = self.http_address;
        status.api_address = self.api_address;
        status.workers = self.workers;
        status.worker_restarts = restarts;
        status.tasks = self.tasks.list();
        status.readiness = readiness(ctx, &self.rules, &status.tasks);
        metrics.ready.set(i64::from(status.readiness.ready));
        status.last_increment_ms = metrics.last_split();
        status.recent_warnings = self.warnings.list();
        status
    }

    /// Readiness now.
    pub fn readiness(&self) -> Readiness {
        readiness(&self.ctx, &self.rules, &self.tasks.list())
    }

    fn history(&self) -> std::sync::MutexGuard<'_, History> {
        self.history.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, status: &Status) {
        let sample = Sample {
            at_ms: status.updated_ms,
            head_frame: status.head_frame,
            increment: status.increment.unwrap_or(0),
        };
        self.history()
            .record(sample, status.peers.iter().map(|peer| &peer.info));
    }
}

async fn snapshot(ctx: &ServiceContext, listen: &[String]) -> Status {
    let scores = ctx.network.scores().await.unwrap_or_default();
    let peers = ctx
        .peers
        .sorted_by_bandwidth()
        .into_iter()
        .filter(|info| info.peer_id != ctx.own)
        .map(|info| PeerStatus {
            gossip_score: scores
                .iter()
                .find(|(peer, _)| *peer == info.peer_id)
                .map(|(_, score)| *score),
            info,
            history: Vec::new(),
        })
        .collect();
    let latest = ctx
        .store
        .latest_data_time_proof(&ctx.own.to_bytes())
        .ok()
        .flatten();
    let head = ctx.reel.lock().await.head().clone();
    // Exact up to 2^53, far beyond any chain's reward; close beyond that.
    let reward = latest.as_ref().map_or(0, |l| l.reward);
    ctx.metrics.unclaimed_reward.set(reward as f64);
    let increment = latest.as_ref().map(|l| l.increment);
    ctx.metrics
        .proof_increment
        .set(i64::from(increment.unwrap_or(0)));
    Status {
        peer_id: ctx.own.to_base58(),
        listen: listen.to_vec(),
        head_frame: head.frame_number,
        head_output: hex::encode(&Sha3_256::digest(&head.output)[..8]),
        increment,
        reward: reward.to_string(),
        peers,
        counters: CounterValues::of(&ctx.metrics),
        updated_ms: now_ms(),
        ..Status::default()
    }
}

fn write(config_dir: &Path, status: &Status) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(status)?;
    qnode_files::write_replacing(&config_dir.join(STATUS_FILE), &json)
}

/// Rewrites the status (and with it the sampled gauges) every second until shutdown.
pub async fn run(
    source: Arc<StatusSource>,
    config_dir: std::path::PathBuf,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut failing = false;
    let mut low_space = false;
    loop {
        let mut status = source.snapshot().await;
        source.record(&status);
        // Once when free space falls below the floor, once when it is back.
        match crate::health::low_space(&source.ctx, &source.rules) {
            Some(problem) if !low_space => {
                tracing::warn!("{problem}");
                low_space = true;
            }
            None if low_space => {
                tracing::info!("free space under the store is above min-free-space again");
                low_space = false;
            }
            _ => {}
        }
        let stopping = *shutdown.borrow();
        status.stopped = stopping;
        // Off the async threads: the write waits for the disk (it is flushed and renamed).
        let dir = config_dir.clone();
        let written = tokio::task::spawn_blocking(move || write(&dir, &status)).await;
        let written = written.unwrap_or_else(|e| Err(std::io::Error::other(e)));
        // Once per streak of failures (a full disk fails every second until freed).
        match written {
            Err(e) if !failing => {
                tracing::warn!("writing {}: {e}", config_dir.join(STATUS_FILE).display());
                failing = true;
            }
            Ok(()) if failing => {
                tracing::info!("{} written again", config_dir.join(STATUS_FILE).display());
                failing = false;
            }
            _ => {}
        }
        if stopping {
            return;
        }
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => {}
            _ = tokio::time::sleep(EVERY) => {}
        }
    }
}
