//! The node's Prometheus metrics (via the `prometheus` crate) and the health facts that
//! readiness is judged on. One `Metrics` is shared by every service; `/metrics` renders
//! its registry.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Why gossip is ignored rather than judged (`qnode_messages_ignored_total`'s reasons).
pub const IGNORE_REASONS: [&str; 2] = ["author_score", "unknown_type"];

/// The parts `qnode_increment_seconds` times.
pub const INCREMENT_PARTS: [&str; 4] = ["workers", "critical_path", "open", "store"];

/// Every metric the node exports, and when things last went right.
pub struct Metrics {
    registry: Registry,
    /// `qnode_head_frame`: the master clock head.
    pub head_frame: IntGauge,
    /// `qnode_frames_total{source, outcome}`: frames from peers (gossip, sync) accepted,
    /// or rejected with the reason.
    pub frames: IntCounterVec,
    /// `qnode_increments_total`: proof-loop increments proved.
    pub increments: IntCounter,
    /// `qnode_increment_seconds{part}`: where an increment's time went: `workers` (their
    /// proofs), `critical_path` (from the last answer to the next challenge: the
    /// commitment), and in the background while the next increment is proved, `open` and
    /// `store` (the previous increment's opening, record and report).
    pub increment_seconds: HistogramVec,
    /// `qnode_worker_restarts`: data worker restarts since start.
    pub worker_restarts: IntGauge,
    /// `qnode_peers`: connected peers.
    pub peers: IntGauge,
    /// `qnode_peer_score{peer}`: our score of each known peer.
    pub peer_score: prometheus::IntGaugeVec,
    /// `qnode_reports_total{outcome}`: peers' reports verified or rejected.
    pub reports: IntCounterVec,
    /// `qnode_bandwidth_tests_total{outcome}`: bandwidth tests passed, failed (an offence),
    /// interrupted (the connection closed: no offence) or inconclusive (a late echo while
    /// this node was stalled: no offence).
    pub bandwidth_tests: IntCounterVec,
    /// `qnode_messages_ignored_total{reason}`: gossip ignored, not judged: its author's
    /// score is negative (`author_score`), or its type is one this version does not know
    /// (`unknown_type`: a newer peer's, so never an offence).
    pub messages_ignored: IntCounterVec,
    /// `qnode_foreign_peers_total`: peers dropped on connection because they are on
    /// another network (or speak an incompatible version): a bootstrap list pointing at
    /// the wrong network shows here.
    pub foreign_peers: IntCounter,
    /// `qnode_sync_target_frame`: the highest head a sync target claimed (0 when none).
    pub sync_target: IntGauge,
    /// `qnode_store_bytes`: the store file's size.
    pub store_bytes: IntGauge,
    /// `qnode_proof_increment`: the proof chain's latest increment (0 before the first).
    pub proof_increment: IntGauge,
    /// `qnode_ready`: 1 when `/readyz` answers 200, else 0.
    pub ready: IntGauge,
    /// `qnode_unclaimed_reward`: the proof chain's total reward, not yet claimed (what
    /// the original's operators exported from `GetTokenInfo` themselves).
    pub unclaimed_reward: prometheus::Gauge,
    last_workers_ok_ms: AtomicI64,
    last_head_change_ms: AtomicI64,
    last_split_ms: [AtomicU64; 4],
    /// Why the last store write failed, while writes keep failing.
    store_write_failure: std::sync::Mutex<Option<String>>,
}

/// Where the last increment's time went, in milliseconds.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct IncrementSplit {
    /// Waiting for the workers' proofs.
    pub workers: u64,
    /// From the last worker's answer to the next challenge: the KZG commitment.
    pub critical_path: u64,
    /// The previous increment's KZG opening, made while the workers prove.
    pub open: u64,
    /// Writing the previous increment's record, while the workers prove.
    pub store: u64,
}

fn register<M: prometheus::core::Collector + Clone + 'static>(registry: &Registry, metric: M) -> M {
    // Names are fixed and distinct; registration cannot fail for a fresh registry.
    if let Err(e) = registry.register(Box::new(metric.clone())) {
        tracing::error!("metric registration: {e}");
    }
    metric
}

/// `qnode_increment_seconds{part}`, with buckets from 5 ms to a minute.
fn increment_seconds() -> Result<HistogramVec, prometheus::Error> {
    let opts = HistogramOpts::new(
        "qnode_increment_seconds",
        "Time per increment by part (workers, critical_path, open, store)",
    )
    .buckets(vec![
        0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    ]);
    HistogramVec::new(opts, &["part"])
}

impl Metrics {
    /// A fresh registry with every metric at zero.
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels).map(|m| register(&registry, m))
        };
        let gauge =
            |name: &str, help: &str| IntGauge::new(name, help).map(|m| register(&registry, m));
        let counter =
            |name: &str, help: &str| IntCounter::new(name, help).map(|m| register(&registry, m));
        let metrics = Metrics {
            head_frame: gauge("qnode_head_frame", "The master clock head frame number")?,
            frames: counter_vec(
                "qnode_frames_total",
                "Frames from peers by source (gossip, sync) and outcome (accepted or the reason refused)",
                &["source", "outcome"],
            )?,
            increments: counter("qnode_increments_total", "Proof-loop increments proved")?,
            increment_seconds: register(&registry, increment_seconds()?),
            worker_restarts: gauge("qnode_worker_restarts", "Data worker restarts since start")?,
            peers: gauge("qnode_peers", "Connected peers")?,
            peer_score: register(
                &registry,
                prometheus::IntGaugeVec::new(
                    Opts::new("qnode_peer_score", "Our score of each known peer"),
                    &["peer"],
                )?,
            ),
            reports: counter_vec(
                "qnode_reports_total",
                "Peers' self-test reports by outcome (verified, rejected)",
                &["outcome"],
            )?,
            bandwidth_tests: counter_vec(
                "qnode_bandwidth_tests_total",
                "Bandwidth tests by outcome (passed, failed, interrupted, inconclusive)",
                &["outcome"],
            )?,
            messages_ignored: counter_vec(
                "qnode_messages_ignored_total",
                "Gossip messages ignored by reason (author_score, unknown_type)",
                &["reason"],
            )?,
            foreign_peers: counter(
                "qnode_foreign_peers_total",
                "Peers dropped because they are on another network (or an incompatible version)",
            )?,
            sync_target: gauge(
                "qnode_sync_target_frame",
                "The head claimed by the peer being synced from (0 when not syncing)",
            )?,
            store_bytes: gauge("qnode_store_bytes", "Size of the store file")?,
            proof_increment: gauge(
                "qnode_proof_increment",
                "The proof chain's latest increment",
            )?,
            ready: gauge("qnode_ready", "1 when the node is ready (/readyz answers 200), else 0")?,
            unclaimed_reward: register(
                &registry,
                prometheus::Gauge::new(
                    "qnode_unclaimed_reward",
                    "The proof chain's total reward, not yet claimed",
                )?,
            ),
            registry,
            last_workers_ok_ms: AtomicI64::new(0),
            last_head_change_ms: AtomicI64::new(0),
            last_split_ms: Default::default(),
            store_write_failure: Default::default(),
        };
        metrics.show_every_series();
        Ok(metrics)
    }

    /// Puts the labelled series at zero from the start, so a scrape sees every one
    /// (frames, reports and bandwidth tests appear with the first status, which reads them).
    fn show_every_series(&self) {
        for reason in IGNORE_REASONS {
            self.messages_ignored.with_label_values(&[reason]);
        }
        for part in INCREMENT_PARTS {
            self.increment_seconds.with_label_values(&[part]);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!("rendering metrics: {e}");
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Records one increment proved and committed: counted, its parts timed.
    pub fn increment_done(&self, workers: Duration, critical_path: Duration) {
        self.increments.inc();
        self.time_parts([(0, workers), (1, critical_path)]);
    }

    /// Records the previous increment stored, off the critical path.
    pub fn increment_stored(&self, open: Duration, store: Duration) {
        self.time_parts([(2, open), (3, store)]);
    }

    fn time_parts(&self, parts: [(usize, Duration); 2]) {
        for (slot, time) in parts {
            self.increment_seconds
                .with_label_values(&[INCREMENT_PARTS[slot]])
                .observe(time.as_secs_f64());
            self.last_split_ms[slot].store(time.as_millis() as u64, Ordering::Relaxed);
        }
    }

    /// The last increment's time split.
    pub fn last_split(&self) -> IncrementSplit {
        let [workers, critical_path, open, store] = self
            .last_split_ms
            .each_ref()
            .map(|ms| ms.load(Ordering::Relaxed));
        IncrementSplit {
            workers,
            critical_path,
            open,
            store,
        }
    }

    /// Every worker answered just now.
    pub fn workers_answered(&self, now_ms: i64) {
        self.last_workers_ok_ms.store(now_ms, Ordering::Relaxed);
    }

    /// When every worker last answered (ms since the epoch; 0 never).
    pub fn last_workers_ok_ms(&self) -> i64 {
        self.last_workers_ok_ms.load(Ordering::Relaxed)
    }

    /// A store write failed (`Some`, why) or succeeded again (`None`).
    pub fn store_write(&self, failure: Option<String>) {
        if let Ok(mut slot) = self.store_write_failure.lock() {
            *slot = failure;
        }
    }

    /// Why store writes are failing, if they are.
    pub fn store_write_failure(&self) -> Option<String> {
        self.store_write_failure.lock().ok().and_then(|s| s.clone())
    }

    /// The head moved just now.
    pub fn head_changed(&self, head: u64, now_ms: i64) {
        self.head_frame.set(head as i64);
        self.last_head_change_ms.store(now_ms, Ordering::Relaxed);
    }

    /// When the head last moved (ms since the epoch; 0 never).
    pub fn last_head_change_ms(&self) -> i64 {
        self.last_head_change_ms.load(Ordering::Relaxed)
    }
}
