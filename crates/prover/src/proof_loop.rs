//! The proof loop (the seed's main loop): each increment every worker proves its
//! challenge, the SHA3-512 digests of the outputs are committed with KZG, the commitment
//! picks which of the previous increment's proofs to open, and that increment's record is
//! stored and announced as a self-test report.
//!
//! The loop is pipelined: once C(n) exists the workers start on increment n + 1 at once,
//! and increment n − 1 is opened, stored and reported while they prove. Only the
//! commitment lies between the last worker's answer and the next challenge. Storing
//! n − 1 must finish before n is stored, so records stay in order and a store that cannot
//! be written holds the loop after at most one more increment.
//!
//! Increment n uses the challenge `peer id ‖ C(n−1)` (C(−1) is the genesis frame's
//! output). Once C(n) exists, increment n − 1 is stored: input C(n−2), output
//! `BE u32 i ‖ proof(n−1)[i] ‖ C(n−1) ‖ opening of digest i against C(n−1)` with
//! i = SHA3-256(C(n)) mod parallelism. A restart resumes from the stored record L: it
//! proves increment L + 1 from C(L) again (deterministically the same), so nothing is
//! skipped or stored twice.

use qnode_kzg::{g1_to_bytes, Scalar, Setup, G1_BYTES};
use qnode_protocol::pb::data::data_ipc_service_client::DataIpcServiceClient;
use qnode_protocol::pb::data::ChallengeProofRequest;
use qnode_protocol::pb::node::SelfTestReport;
use qnode_protocol::proof_record::{IndexedProof, ProofRecord, RecordLength};
use qnode_store::{DataTimeProof, Store, StoreError};
use sha3::{Digest, Sha3_256, Sha3_512};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tonic::transport::Channel;

use qnode_services::data_workers::Supervisor;

/// The polynomial size for a parallelism: 128, or 1024 above 128 workers.
pub fn poly_size(parallelism: usize) -> Result<usize, ProofLoopError> {
    match parallelism {
        1..=128 => Ok(128),
        129..=1024 => Ok(1024),
        n => Err(ProofLoopError::Parallelism(n)),
    }
}

/// `SHA3-256(commitment) mod parallelism`: which previous proof to open.
pub fn opened_index(commitment: &[u8], parallelism: usize) -> usize {
    let digest = Sha3_256::digest(commitment);
    // The digest as a 256-bit big-endian integer, reduced mod parallelism.
    digest.iter().fold(0u128, |acc, &b| {
        ((acc << 8) | u128::from(b)) % parallelism as u128
    }) as usize
}

/// The value committed for one worker output.
pub fn digest_value(proof: &[u8]) -> Scalar {
    Scalar::from_be_bytes_reduced(&Sha3_512::digest(proof))
}

/// The first wait after a failed store write; it doubles up to `STORE_RETRY_MAX`.
const STORE_RETRY_FIRST: Duration = Duration::from_secs(1);
const STORE_RETRY_MAX: Duration = Duration::from_secs(30);
/// The first pause before a worker call that failed, or answered wrong, is made again.
const RETRY_FIRST: Duration = Duration::from_millis(200);
/// The longest pause between a worker's retries: a worker that comes back is asked
/// again within this.
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Why the loop stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProofLoopError {
    /// More workers than the largest KZG domain.
    #[error(
        "parallelism {0} exceeds 1024, the largest domain BLS48-581 supports; run at most \
         1024 workers"
    )]
    Parallelism(usize),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A commitment or opening failed.
    #[error(transparent)]
    Kzg(#[from] qnode_kzg::KzgError),
    /// The latest pointer names a record the store does not hold.
    #[error("stored proof record {0} is missing")]
    Missing(u32),
    /// A stored record is malformed.
    #[error("stored proof record {0} is malformed: {1}")]
    Record(u32, #[source] RecordLength),
    /// A KZG or store task panicked: a bug.
    #[error("proof loop task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// What the loop needs.
pub struct ProofLoop {
    /// Where records go.
    pub store: Arc<Store>,
    /// The KZG setup.
    pub setup: Arc<Setup>,
    /// One client per worker; worker i proves core i.
    pub workers: Vec<DataIpcServiceClient<Channel>>,
    /// Restarts hung local workers; `None` for remote workers.
    pub supervisor: Option<Arc<Supervisor>>,
    /// This node's peer id.
    pub peer_id: Vec<u8>,
    /// The genesis frame's output: C(−1).
    pub genesis_output: Vec<u8>,
    /// Devnet difficulty divisor (1 on a real network), recorded with each increment.
    pub difficulty_divisor: u32,
    /// The self-test fields every report carries.
    pub report_template: SelfTestReport,
    /// Reports for the network layer (dropped when it lags).
    pub reports: mpsc::Sender<SelfTestReport>,
    /// A worker call taking longer than this is treated as hung.
    pub call_timeout: Duration,
    /// Where increments are counted and timed.
    pub metrics: Arc<qnode_metrics::Metrics>,
    /// Each increment takes at least this long (a devnet setting, zero on a real network:
    /// at devnet difficulty the loop would otherwise spin on KZG and starve its
    /// neighbours).
    pub min_increment: Duration,
}

/// Increment n − 1, waiting for C(n) to pick its opened index.
struct Unstored {
    increment: u32,
    challenge_base: Vec<u8>,
    proofs: Vec<Proof>,
    values: Vec<Scalar>,
    commitment: [u8; G1_BYTES],
}

/// One worker's challenge proof.
type Proof = [u8; qnode_vdf::OUTPUT_BYTES];

impl ProofLoop {
    /// Where to start: (next increment, C(next − 1)).
    fn resume_point(&self) -> Result<(u32, Vec<u8>), ProofLoopError> {
        let Some(latest) = self.store.latest_data_time_proof(&self.peer_id)? else {
            return Ok((0, self.genesis_output.clone()));
        };
        let record = self
            .store
            .data_time_proof(&self.peer_id, latest.increment)?
            .ok_or(ProofLoopError::Missing(latest.increment))?;
        let record = ProofRecord::parse(&record.output)
            .map_err(|e| ProofLoopError::Record(latest.increment, e))?;
        Ok((latest.increment + 1, record.commitment.to_vec()))
    }

    /// Runs until `shutdown` becomes true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) -> Result<(), ProofLoopError> {
        let this = Arc::new(self);
        let parallelism = this.workers.len();
        let size = poly_size(parallelism)?;
        let (mut increment, mut base) = this.resume_point()?;
        tracing::info!(
            increment,
            parallelism,
            poly_size = size,
            "proof loop starting"
        );
        let setup = this.setup.clone();
        qnode_compute::run(move || setup.prepare(size)).await??;
        let mut unstored: Option<Unstored> = None;
        let mut storing: Option<JoinHandle<Result<bool, ProofLoopError>>> = None;
        loop {
            let started = Instant::now();
            let challenge = [this.peer_id.as_slice(), &base].concat();
            let proofs = tokio::select! {
                proofs = this.prove_all(&challenge, increment) => Some(proofs),
                _ = shutdown.wait_for(|stop| *stop) => None,
            };
            let Some(proofs) = proofs else {
                return finish(storing).await;
            };
            let answered = Instant::now();
            let workers_time = answered - started;
            this.metrics
                .workers_answered(qnode_protocol::clock::now_ms());

            let setup = this.setup.clone();
            let (proofs, values, commitment) = qnode_compute::run(move || {
                let values: Vec<Scalar> = proofs.iter().map(|p| digest_value(p)).collect();
                let commitment = setup.commit(size, &values).map(|c| g1_to_bytes(&c));
                (proofs, values, commitment)
            })
            .await?;
            let commitment = commitment?;
            // Increment n − 2 is stored before n − 1 is: records stay in order, and a
            // store that cannot be written holds the loop here.
            if !finish_stored(storing.take()).await? {
                return Ok(());
            }
            if let Some(previous) = unstored.take() {
                let task = this
                    .clone()
                    .store_opened(previous, commitment, shutdown.clone());
                storing = Some(tokio::spawn(task));
            }
            let critical_path = answered.elapsed();
            this.metrics.increment_done(workers_time, critical_path);
            tracing::info!(
                increment,
                workers_ms = workers_time.as_millis() as u64,
                critical_path_ms = critical_path.as_millis() as u64,
                "increment proved"
            );
            unstored = Some(Unstored {
                increment,
                challenge_base: std::mem::replace(&mut base, commitment.to_vec()),
                proofs,
                values,
                commitment,
            });
            increment += 1;
            let rest = this.min_increment.saturating_sub(started.elapsed());
            let stopped = tokio::select! {
                _ = tokio::time::sleep(rest) => false,
                _ = shutdown.wait_for(|stop| *stop) => true,
            };
            if stopped {
                return finish(storing).await;
            }
        }
    }

    /// Opens `previous` at the index C(n) picks, then stores and reports it, retrying
    /// with backoff while the store cannot be written (a full disk, say). False when
    /// shutdown came first.
    async fn store_opened(
        self: Arc<Self>,
        previous: Unstored,
        commitment: [u8; G1_BYTES],
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<bool, ProofLoopError> {
        let parallelism = self.workers.len();
        let size = poly_size(parallelism)?;
        let index = opened_index(&commitment, parallelism);
        let started = Instant::now();
        let setup = self.setup.clone();
        let (previous, opening) = qnode_compute::run(move || {
            let opening = setup.open(size, &previous.values, index);
            (previous, opening)
        })
        .await?;
        let opening = g1_to_bytes(&opening?.proof);
        let open_time = started.elapsed();
        let previous = Arc::new(previous);
        let mut wait = STORE_RETRY_FIRST;
        loop {
            let started = Instant::now();
            let attempt = {
                let (this, previous) = (self.clone(), previous.clone());
                tokio::task::spawn_blocking(move || {
                    this.store_increment(&previous, index, &opening)
                })
                .await?
            };
            match attempt {
                Ok(()) => {
                    if self.metrics.store_write_failure().is_some() {
                        tracing::info!(increment = previous.increment, "store writable again");
                        self.metrics.store_write(None);
                    }
                    self.metrics.increment_stored(open_time, started.elapsed());
                    return Ok(true);
                }
                Err(ProofLoopError::Store(e @ StoreError::Io { .. })) => {
                    tracing::error!(
                        increment = previous.increment,
                        "cannot store the increment, retrying in {} s: {e}",
                        wait.as_secs()
                    );
                    self.metrics.store_write(Some(e.to_string()));
                }
                Err(e) => return Err(e),
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.wait_for(|stop| *stop) => return Ok(false),
            }
            wait = (wait * 2).min(STORE_RETRY_MAX);
        }
    }

    fn store_increment(
        &self,
        previous: &Unstored,
        index: usize,
        opening: &[u8; G1_BYTES],
    ) -> Result<(), ProofLoopError> {
        let opened = IndexedProof {
            index: index as u32,
            proof: previous.proofs[index],
        };
        let record = DataTimeProof {
            difficulty: qnode_vdf::scaled_challenge_difficulty(
                previous.increment,
                self.difficulty_divisor,
            ),
            parallelism: self.workers.len() as u32,
            input: previous.challenge_base.clone(),
            output: ProofRecord {
                opened: opened.clone(),
                commitment: previous.commitment,
                opening: *opening,
            }
            .encode(),
        };
        let latest =
            self.store
                .append_data_time_proof(&self.peer_id, previous.increment, &record)?;
        let report = SelfTestReport {
            proof: opened.encode(),
            increment: previous.increment,
            challenge: previous.challenge_base.clone(),
            ..self.report_template.clone()
        };
        if self.reports.try_send(report).is_err() {
            tracing::debug!("network layer is behind; report dropped");
        }
        tracing::debug!(increment = previous.increment, reward = %latest.reward, "stored");
        Ok(())
    }

    /// Every worker's proof for this increment, in core order. A failed or hung call is
    /// retried (after restarting a hung local worker) until it succeeds.
    async fn prove_all(&self, challenge: &[u8], increment: u32) -> Vec<Proof> {
        let calls = self.workers.iter().enumerate().map(|(core, client)| {
            let request = ChallengeProofRequest {
                challenge: challenge.to_vec(),
                core: core as u32,
                increment,
            };
            self.prove_one(client.clone(), request)
        });
        futures::future::join_all(calls).await
    }

    /// One worker's proof. A refused call or a malformed answer is retried after a pause
    /// that doubles up to [`RETRY_MAX`], so a misbehaving worker is not spun against; a
    /// hung one is restarted (when it is ours) and asked again.
    async fn prove_one(
        &self,
        mut client: DataIpcServiceClient<Channel>,
        request: ChallengeProofRequest,
    ) -> Proof {
        let core = request.core;
        let mut pause = RETRY_FIRST;
        loop {
            let call = client.calculate_challenge_proof(request.clone());
            match tokio::time::timeout(self.call_timeout, call).await {
                Ok(Ok(response)) => {
                    let output = response.into_inner().output;
                    if let Ok(proof) = Proof::try_from(output.as_slice()) {
                        return proof;
                    }
                    tracing::warn!(
                        core,
                        len = output.len(),
                        "worker returned a malformed proof"
                    );
                }
                Ok(Err(status)) => {
                    tracing::warn!(core, %status, "worker call failed; retrying");
                }
                Err(_) => {
                    tracing::warn!(core, "worker hung; restarting it");
                    if let Some(s) = &self.supervisor {
                        s.restart(core).await;
                    }
                    continue;
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(RETRY_MAX);
        }
    }
}

/// Waits for the storing of the previous increment, if any: true when it was stored (or
/// there was none), false when shutdown stopped its retries.
async fn finish_stored(
    storing: Option<JoinHandle<Result<bool, ProofLoopError>>>,
) -> Result<bool, ProofLoopError> {
    match storing {
        Some(task) => task.await?,
        None => Ok(true),
    }
}

/// On shutdown: lets an increment being stored reach the store, so a clean stop loses
/// only the increments not yet committed.
async fn finish(
    storing: Option<JoinHandle<Result<bool, ProofLoopError>>>,
) -> Result<(), ProofLoopError> {
    finish_stored(storing).await.map(drop)
}
