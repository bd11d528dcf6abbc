//! Stage 4, start the prover: the data workers (local processes under their supervisor,
//! or remote endpoints), the proof loop over them, and the publisher of its reports.

use crate::network::Started;
use crate::state::Opened;
use crate::{NodeConfig, NodeError, WorkerSource};
use qnode_prover::proof_loop::ProofLoop;
use qnode_prover::report_publisher;
use qnode_services::data_workers::{self, Supervisor};
use qnode_tasks::{OnStop, Services};
use std::sync::Arc;
use tokio::sync::mpsc;

/// The cores a report claims: the workers and the node's own. Peers with the original's
/// rule penalise fewer than 3, so the node says so at start rather than be scored out
/// in silence (a devnet requires 1).
fn cores_reported(config: &NodeConfig, workers: usize) -> u32 {
    let cores = workers as u32 + 1;
    let required = config.network.report_rules.min_cores;
    if cores < required {
        tracing::warn!(
            "this node reports {cores} cores ({workers} workers + its own), but peers \
             require {required} (the original's rule) and will penalise it: run at least \
             {} workers",
            required - 1
        );
    }
    cores
}

/// Free bytes of the filesystem holding `dir` (statfs: available blocks × block size), as
/// the original's report carries them; 0 if it cannot be read.
fn free_storage(dir: &std::path::Path) -> u64 {
    match qnode_operator::health::free_bytes(dir) {
        Ok(free) => free,
        Err(e) => {
            tracing::warn!("free space of {}: {e}; reporting 0", dir.display());
            0
        }
    }
}

/// Reports waiting for the publisher; the loop drops reports when it lags.
const REPORT_QUEUE: usize = 64;

/// The running prover.
pub(super) struct Prover {
    /// The local workers' supervisor, if workers are local.
    pub supervisor: Option<Arc<Supervisor>>,
    /// How many workers the proof loop uses.
    pub workers: usize,
}

/// Starts the workers, the proof loop and the report publisher.
pub(super) async fn start(
    config: &NodeConfig,
    opened: Opened,
    network: &Started,
    services: &Services,
) -> Result<Prover, NodeError> {
    let (supervisor, endpoints) = match &config.workers {
        WorkerSource::Local(local) => {
            let supervisor = Supervisor::start(local.clone()).await?;
            let endpoints = supervisor.endpoints();
            let (s, stop) = (supervisor.clone(), services.stop_signal());
            services.spawn_restarting("data_workers", OnStop::Abort, move || {
                s.clone().supervise(stop.clone())
            });
            (Some(supervisor), endpoints)
        }
        WorkerSource::Remote(list) => (None, list.clone()),
    };
    let mut report_template = opened.self_test.to_report();
    report_template.cores = cores_reported(config, endpoints.len());
    report_template.storage = free_storage(&config.config_dir).to_be_bytes().to_vec();
    let (reports, report_rx) = mpsc::channel(REPORT_QUEUE);
    let ctx = &network.ctx;
    // As the original: the node's own manifest is listed from the start, with its peers'.
    ctx.peers.add_manifest(ctx.own, &report_template);
    let proof_loop = ProofLoop {
        store: opened.store,
        setup: opened.kzg,
        workers: data_workers::clients(&endpoints)?,
        supervisor: supervisor.clone(),
        peer_id: ctx.own.to_bytes(),
        genesis_output: opened.genesis_output,
        difficulty_divisor: config.divisor(),
        report_template,
        reports,
        call_timeout: config.worker_timeout,
        min_increment: config.min_increment,
        metrics: ctx.metrics.clone(),
    };
    let stop = services.stop_signal();
    services.spawn_critical("proof_loop", OnStop::Finish, proof_loop.run(stop));
    let publisher = report_publisher::run(ctx.clone(), report_rx);
    services.spawn_critical("report_publisher", OnStop::Abort, async move {
        publisher.await;
        Ok::<(), std::convert::Infallible>(())
    });
    Ok(Prover {
        supervisor,
        workers: endpoints.len(),
    })
}
