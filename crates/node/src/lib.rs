//! `qnode run`: a node starts in stages, one module each, and then runs its tasks under
//! [`Services`] until shutdown or until a critical task fails:
//!
//! 1. [`checks`]: everything that can refuse the start, before anything is written — the
//!    store as it is, the key, every listening port, the KZG setup;
//! 2. [`state`]: open state — the store, a new key saved, the master time reel, the
//!    self-test;
//! 3. [`network`]: start the network and the services around it;
//! 4. [`prover`]: start the prover — data workers, the proof loop, its report publisher;
//! 5. [`operator`]: start the operator side — status, HTTP, the node API.
//!
//! On stop every task ends (see [`qnode_tasks`]), then the workers and the store close.

mod checks;
mod config;
mod error;
pub mod identity;
mod network;
mod operator;
mod prover;
mod state;

pub use config::{ContextObserver, NetworkSettings, NodeConfig, Process, WorkerSource};
pub use error::NodeError;

use qnode_services::data_workers::Supervisor;
use qnode_store::Store;
use qnode_tasks::{Cause, Services};
use std::sync::Arc;
use tokio::sync::watch;

/// Runs the node until `shutdown` becomes true or a critical task fails, then stops every
/// task and worker.
pub async fn run(config: NodeConfig, shutdown: watch::Receiver<bool>) -> Result<(), NodeError> {
    run_under(config, Services::new(shutdown)).await
}

/// [`run`] with its tasks under `services`, which the caller made: it watches their board
/// (a test, a simulation) or fails one of them on purpose ([`Services::failing`]).
pub async fn run_under(config: NodeConfig, services: Services) -> Result<(), NodeError> {
    let divisor = config.divisor();
    if divisor > 1 {
        tracing::warn!(
            divisor,
            "DEVNET difficulty: every VDF difficulty is divided by {divisor}"
        );
    }
    let running = match start(&config, &services).await {
        Ok(running) => running,
        Err(e) => {
            // A later stage failed: what the earlier ones started stops with it. A task
            // that panicked or failed meanwhile (the swarm, say) is the cause, the stage's
            // error only its consequence ("the network task has stopped"), so the task is
            // named; one that merely returned did so because the stage gave up.
            return Err(match services.finish().await {
                Err(failure) if !matches!(failure.cause, Cause::Returned) => failure.into(),
                _ => e,
            });
        }
    };
    services.stopped().await;
    let outcome = services.finish().await;
    if let Some(workers) = &running.workers {
        workers.shutdown().await;
    }
    if let Err(e) = running.store.close() {
        tracing::error!("closing the store: {e}");
    }
    tracing::info!("stopped");
    Ok(outcome?)
}

/// What a started node closes when it stops.
struct Running {
    store: Arc<Store>,
    workers: Option<Arc<Supervisor>>,
}

/// The stages, in order.
async fn start(config: &NodeConfig, services: &Services) -> Result<Running, NodeError> {
    let checked = checks::run(config).await?;
    let own = checked.key.key().peer_id();
    tracing::info!(peer_id = %own, dir = %config.config_dir.display(), "starting");
    let state::State { reel, opened } = state::open(config, &checked.key, checked.setup).await?;
    let store = opened.store.clone();
    let network = network::start(config, checked.swarm, reel, &store, own, services).await?;
    let prover = prover::start(config, opened, &network, services).await?;
    operator::start(config, checked.listeners, &network, &prover, services);
    Ok(Running {
        store,
        workers: prover.supervisor,
    })
}

/// Runs CPU-bound start-up work (verifying a setup, the self-test) on the compute threads,
/// so that a signal still stops the start while it runs.
async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match qnode_compute::run(work).await {
        Ok(value) => value,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Cancelled: the runtime is shutting down, and drops this future with it.
        Err(_) => std::future::pending().await,
    }
}
