//! Stage 1: everything that can refuse a start, checked before anything is written — the
//! store read-only and whole, the key against the chains it holds, every listening port,
//! and the KZG setup.

use crate::identity::{self, KeyPlan};
use crate::{off_runtime, NodeConfig, NodeError, WorkerSource};
use qnode_p2p::{BoundSwarm, Network};
use qnode_prover::kzg_setup::{self, LoadedSetup};
use qnode_services::data_workers;
use qnode_store::Store;
use std::net::SocketAddr;
use std::path::Path;
use tokio::net::TcpListener;

/// What passed the checks.
pub(super) struct Checked {
    /// The key to run under (maybe new and not yet saved).
    pub key: KeyPlan,
    /// The operator's listeners, bound.
    pub listeners: Listeners,
    /// The p2p listeners, bound.
    pub swarm: BoundSwarm,
    /// The verified setup.
    pub setup: LoadedSetup,
}

/// The operator's listeners, if on.
pub(super) struct Listeners {
    /// Dashboard, metrics, health and status.
    pub http: Option<TcpListener>,
    /// The node API (gRPC).
    pub api: Option<TcpListener>,
}

/// Runs every check; writes nothing.
pub(super) async fn run(config: &NodeConfig) -> Result<Checked, NodeError> {
    let dir = config.config_dir.clone();
    let stored = off_runtime(move || stored_chains(&dir)).await?;
    let key = identity::plan(
        &config.config_dir,
        &stored,
        config.new_identity,
        config.key_type,
    )?;
    let listeners = Listeners {
        http: bind(config.http_listen, "dashboard and metrics", "http-listen").await?,
        api: bind(config.grpc_listen, "node API", "grpc-listen").await?,
    };
    let swarm = Network::bind(key.key().clone(), config.network.id, &config.network.listen).await?;
    // With the node's own ports bound, a worker port that overlaps one of them is taken.
    if let WorkerSource::Local(local) = &config.workers {
        data_workers::check_ports(local).await?;
    }
    let (dir, powers) = (config.config_dir.clone(), config.devnet_setup_powers);
    let setup = off_runtime(move || kzg_setup::load(&dir, powers)).await?;
    Ok(Checked {
        key,
        listeners,
        swarm,
        setup,
    })
}

/// The peer ids whose proof chains a store holds, from a verified read-only copy (no
/// store yet: none). A damaged store stops the start here, before anything is written.
fn stored_chains(config_dir: &Path) -> Result<Vec<Vec<u8>>, NodeError> {
    let path = config_dir.join(qnode_store::STORE_FILE);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let report = Store::open_read_only(&path)?.check()?.into_result(&path)?;
    Ok(report.chains.into_iter().map(|c| c.peer).collect())
}

/// Binds an endpoint's listener, if the endpoint is on.
async fn bind(
    address: Option<SocketAddr>,
    what: &'static str,
    option: &'static str,
) -> Result<Option<TcpListener>, NodeError> {
    let Some(address) = address else {
        return Ok(None);
    };
    TcpListener::bind(address)
        .await
        .map(Some)
        .map_err(|cause| NodeError::Bind {
            what,
            option,
            address,
            cause,
        })
}
