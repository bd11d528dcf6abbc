//! Stage 4, start the prover: the data workers (local processes under their supervisor,
//! or remote endpoints), the proof loop over them, and the publisher of its reports.

use super::network::Started;
use super::state::Opened;
use super::{NodeConfig, NodeError, WorkerSource};
use crate::prover::proof_loop::ProofLoop;
use crate::prover::report_publisher;
use crate::services::data_workers::{self, Supervisor};
use crate::tasks::{OnStop, Services};
use std::sync::Arc;
use tokio::sync::mpsc;

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
    report_template.cores = endpoints.len() as u32 + 1;
    let (reports, report_rx) = mpsc::channel(REPORT_QUEUE);
    let ctx = &network.ctx;
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
