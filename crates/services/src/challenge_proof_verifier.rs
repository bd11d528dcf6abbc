//! Service 6, the challenge-proof verifier, with the report handler in front of it: the
//! original's rules for a peer's `SelfTestReport` (`broadcast_messaging.go`), then the
//! peer's challenge proof recomputed-and-checked on a bounded queue.
//!
//! Rules, in order: our own report only refreshes our own entry; a proof that is not
//! 520 bytes is an offence; a peer whose report was accepted less than the window ago
//! (270 s) is ignored, and so is one whose previous proof still waits for verification
//! (qnode only); a known peer gets its head updated, a bandwidth test if its
//! bandwidth is at most 1 MiB/s, and its proof verified (challenge = its peer id ‖
//! `report.challenge`, core = the proof's index, the report's increment), an offence if it
//! fails; an unknown peer has its manifest recorded, is an offence below the minimum cores
//! or memory, and otherwise gets a bandwidth test. Bandwidth tests go only to peers we
//! are connected to (the original first waits for the peer's address). qnode is stricter where the original
//! could panic: memory must be exactly 8 bytes.

use crate::context::ServiceContext;
use qnode_p2p::PeerId;
use qnode_protocol::clock::now_ms;
use qnode_protocol::pb::node::SelfTestReport;
use qnode_protocol::proof_record::IndexedProof;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Reports waiting for verification; more are dropped until the queue drains.
pub const QUEUE_CAPACITY: usize = 64;
/// Below this measured bandwidth (bytes/s) a peer's next accepted report triggers a test.
pub const RETEST_BANDWIDTH: u64 = 1_048_576;

/// The report rules' parameters (devnets relax the minimums and the window).
#[derive(Debug, Clone)]
pub struct ReportRules {
    /// Reports of a peer within this time of its last accepted one are ignored.
    pub window: Duration,
    /// Fewer cores than this is an offence.
    pub min_cores: u32,
    /// Less memory (bytes) than this is an offence.
    pub min_memory: u64,
}

impl Default for ReportRules {
    /// The original's: 270 s, 3 cores, 16 GB.
    fn default() -> Self {
        ReportRules {
            window: Duration::from_secs(270),
            min_cores: 3,
            min_memory: 16_000_000_000,
        }
    }
}

/// A challenge proof to check.
#[derive(Debug, Clone)]
pub struct VerifyJob {
    /// The peer that claims it.
    pub peer: PeerId,
    /// Its peer id bytes ‖ the report's challenge.
    pub challenge: Vec<u8>,
    /// The opened core.
    pub core: u32,
    /// The report's increment.
    pub increment: u32,
    /// The 516-byte proof.
    pub output: Vec<u8>,
}

/// What the handler did with a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    /// Ours: our own entry refreshed.
    Own,
    /// An offence; the reason.
    Offence(String),
    /// Within the window of the last accepted one.
    RecentlySeen,
    /// An earlier report of the peer still waits for verification.
    AlreadyQueued,
    /// Queued for verification.
    Queued,
    /// The verification queue is full; dropped.
    QueueFull,
    /// A new peer's manifest recorded.
    NewPeer,
}

/// The front of the verifier: applies the rules, queues proofs and bandwidth tests.
pub struct ReportHandler {
    /// The shared services.
    pub ctx: Arc<ServiceContext>,
    /// The rules.
    pub rules: ReportRules,
    /// Proofs to verify.
    pub verify: mpsc::Sender<VerifyJob>,
    /// Peers to measure.
    pub bandwidth: mpsc::Sender<PeerId>,
    /// Peers with a proof queued or being verified (shared with [`run`]).
    pub verifying: Verifying,
}

/// The peers whose proof is queued or being verified. A peer's window starts only when
/// its proof verifies, so without this every report it sends meanwhile (one per
/// increment) would queue another verification of the same peer: with a busy queue, the
/// same few peers' proofs would fill it.
#[derive(Debug, Clone, Default)]
pub struct Verifying(Arc<Mutex<HashSet<PeerId>>>);

impl Verifying {
    /// Marks `peer` as waiting; false if it already was.
    pub fn start(&self, peer: PeerId) -> bool {
        self.lock().insert(peer)
    }

    /// `peer`'s proof is decided (or was never queued).
    pub fn finish(&self, peer: &PeerId) {
        self.lock().remove(peer);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<PeerId>> {
        // A set of ids: a panic elsewhere cannot leave it torn.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn memory_bytes(report: &SelfTestReport) -> Option<u64> {
    Some(u64::from_be_bytes(
        report.memory.as_slice().try_into().ok()?,
    ))
}

impl ReportHandler {
    /// Applies the rules to a report `author` signed.
    pub async fn handle(&self, author: PeerId, report: SelfTestReport) -> ReportOutcome {
        let outcome = self.classify(author, &report);
        if let ReportOutcome::Offence(reason) = &outcome {
            self.ctx
                .metrics
                .reports
                .with_label_values(&["rejected"])
                .inc();
            self.ctx.penalize(author, reason).await;
        }
        outcome
    }

    fn classify(&self, author: PeerId, report: &SelfTestReport) -> ReportOutcome {
        let peers = &self.ctx.peers;
        if author == self.ctx.own {
            peers.later_report(author, report);
            peers.seen(author, now_ms());
            return ReportOutcome::Own;
        }
        let opened = match IndexedProof::parse(&report.proof) {
            Ok(opened) => opened,
            Err(e) => return ReportOutcome::Offence(format!("report proof: {e}")),
        };
        let Some(known) = peers.get(&author).filter(|i| i.manifest.is_some()) else {
            return self.first_report(author, report);
        };
        if now_ms().saturating_sub(known.last_seen_ms) < self.rules.window.as_millis() as i64 {
            return ReportOutcome::RecentlySeen;
        }
        peers.later_report(author, report);
        if !self.verifying.start(author) {
            return ReportOutcome::AlreadyQueued;
        }
        if known.bandwidth <= RETEST_BANDWIDTH {
            self.schedule_bandwidth_test(author, known.connected);
        }
        let mut challenge = author.to_bytes();
        challenge.extend_from_slice(&report.challenge);
        let job = VerifyJob {
            peer: author,
            challenge,
            core: opened.index,
            increment: report.increment,
            output: opened.proof.to_vec(),
        };
        match self.verify.try_send(job) {
            Ok(()) => ReportOutcome::Queued,
            Err(_) => {
                self.verifying.finish(&author);
                ReportOutcome::QueueFull
            }
        }
    }

    fn first_report(&self, author: PeerId, report: &SelfTestReport) -> ReportOutcome {
        self.ctx.peers.add_manifest(author, report);
        let Some(memory) = memory_bytes(report) else {
            return ReportOutcome::Offence(format!(
                "memory field of {} bytes",
                report.memory.len()
            ));
        };
        if report.cores < self.rules.min_cores || memory < self.rules.min_memory {
            return ReportOutcome::Offence(format!(
                "below the minimums: {} cores, {memory} bytes of memory",
                report.cores
            ));
        }
        let connected = self.ctx.peers.get(&author).is_some_and(|i| i.connected);
        self.schedule_bandwidth_test(author, connected);
        ReportOutcome::NewPeer
    }

    /// Like the original, which waits for an address of the peer: a peer whose report
    /// was relayed to us without a direct connection is tested on a later report.
    fn schedule_bandwidth_test(&self, peer: PeerId, connected: bool) {
        if connected {
            let _ = self.bandwidth.try_send(peer);
        }
    }
}

/// Checks one proof at the network's difficulty.
pub fn verify(job: &VerifyJob, divisor: u32) -> bool {
    qnode_vdf::verify_challenge_proof(
        &job.challenge,
        job.core,
        job.increment,
        divisor,
        &job.output,
    )
    .is_ok()
}

/// Verifies queued proofs one at a time: a failure is an offence, a success refreshes the
/// peer's last-seen time.
pub async fn run(
    ctx: Arc<ServiceContext>,
    mut jobs: mpsc::Receiver<VerifyJob>,
    verifying: Verifying,
) {
    while let Some(job) = jobs.recv().await {
        let divisor = ctx.difficulty_divisor;
        let peer = job.peer;
        let increment = job.increment;
        let valid = qnode_compute::run(move || verify(&job, divisor))
            .await
            .unwrap_or(false);
        verifying.finish(&peer);
        if valid {
            ctx.metrics.reports.with_label_values(&["verified"]).inc();
            let now = now_ms();
            ctx.peers.seen(peer, now);
            ctx.peers.update(peer, |info| {
                info.last_verified_ms = now;
                info.reports_verified += 1;
            });
            tracing::info!(%peer, increment, "peer's challenge proof verified");
        } else {
            ctx.metrics.reports.with_label_values(&["rejected"]).inc();
            ctx.peers.update(peer, |info| info.reports_failed += 1);
            ctx.penalize(peer, "challenge proof does not verify").await;
        }
    }
}
