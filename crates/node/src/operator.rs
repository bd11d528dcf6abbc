//! Stage 5, start the operator side: the status writer, the HTTP listener (dashboard,
//! metrics, health) and the node API, on the listeners bound by the checks.

use crate::checks::Listeners;
use crate::network::Started;
use crate::prover::Prover;
use crate::NodeConfig;
use qnode_operator::status::{self, StatusSource};
use qnode_operator::{http, node_api};
use qnode_tasks::{OnStop, Services};
use std::sync::Arc;

/// Starts the status writer and the operator's listeners.
pub(super) fn start(
    config: &NodeConfig,
    listeners: Listeners,
    network: &Started,
    prover: &Prover,
    services: &Services,
) {
    let local = |l: &Option<tokio::net::TcpListener>| l.as_ref().and_then(|l| l.local_addr().ok());
    let source = Arc::new(StatusSource {
        ctx: network.ctx.clone(),
        listen: network.listen.clone(),
        http_address: local(&listeners.http),
        api_address: local(&listeners.api),
        rules: config.health.clone(),
        supervisor: prover.supervisor.clone(),
        workers: prover.workers,
        warnings: config.warnings.clone(),
        tasks: services.board(),
        history: Default::default(),
    });
    let (s, dir, stop) = (
        source.clone(),
        config.config_dir.clone(),
        services.stop_signal(),
    );
    services.spawn_restarting("status_writer", OnStop::Finish, move || {
        status::run(s.clone(), dir.clone(), stop.clone())
    });
    if let Some(listener) = listeners.http {
        if let Some(bound) = source.http_address {
            tracing::info!(
                "dashboard at http://{bound}/ (metrics /metrics, health /healthz, /readyz)"
            );
        }
        let server = http::serve(listener, source.clone(), services.stop_signal());
        services.spawn_critical("http", OnStop::Finish, server);
    }
    if let Some(listener) = listeners.api {
        if let Some(bound) = source.api_address {
            tracing::info!("node API (gRPC) at http://{bound}");
        }
        let server = node_api::serve(listener, network.ctx.clone(), services.stop_signal());
        services.spawn_critical("node_api", OnStop::Finish, server);
    }
}
