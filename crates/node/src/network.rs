//! Stage 3, start the network: the swarm joins and subscribes to the filter's topic, and
//! the services around it start — message subscriber, frame validator, challenge-proof
//! verifier, bandwidth test, frame sync, master prover — with bounded queues between
//! them.

use crate::{NodeConfig, NodeError};
use qnode_metrics::Metrics;
use qnode_p2p::{BoundSwarm, Event, NetworkConfig, PeerId};
use qnode_protocol::clock::now_ms;
use qnode_services::challenge_proof_verifier::{self, ReportHandler, Verifying};
use qnode_services::channel_listener::ChannelListener;
use qnode_services::context::ServiceContext;
use qnode_services::master_time_reel::MasterTimeReel;
use qnode_services::peer_info_manager::PeerInfoManager;
use qnode_services::{
    bandwidth_test, frame_sync, frame_validator, master_prover, message_subscriber,
};
use qnode_store::Store;
use qnode_tasks::{OnStop, Services};
use std::sync::Arc;
use tokio::sync::{mpsc, Mutex};

/// The running network.
pub(super) struct Started {
    /// What the services share.
    pub ctx: Arc<ServiceContext>,
    /// Where it listens, with `/p2p/<peer id>`.
    pub listen: Vec<String>,
}

/// Starts the swarm and the network services.
pub(super) async fn start(
    config: &NodeConfig,
    swarm: BoundSwarm,
    reel: MasterTimeReel,
    store: &Arc<Store>,
    own: PeerId,
    services: &Services,
) -> Result<Started, NodeError> {
    let listener = Arc::new(ChannelListener {
        store: store.clone(),
        filter: config.filter.clone(),
    });
    let mut network_config = NetworkConfig::new(config.network.listen.clone(), listener);
    network_config.bootstrap = config.network.bootstrap.clone();
    network_config.network = config.network.id;
    network_config.peer_target = config.network.peer_target;
    let (network, events) = swarm.start(network_config, services)?;
    network.subscribe(&config.filter).await?;
    let listen: Vec<String> = network
        .listening()
        .iter()
        .map(|a| format!("{a}/p2p/{own}"))
        .collect();
    for address in &listen {
        tracing::info!(%address, "listening");
    }
    let metrics = Arc::new(Metrics::new()?);
    metrics.head_changed(reel.head().frame_number, now_ms());
    let ctx = Arc::new(ServiceContext {
        network,
        peers: Arc::new(PeerInfoManager::new()),
        reel: Arc::new(Mutex::new(reel)),
        store: store.clone(),
        filter: config.filter.clone(),
        master_difficulty: config.master_difficulty(),
        difficulty_divisor: config.divisor(),
        own,
        metrics,
    });
    spawn_services(&ctx, config, events, services);
    if let Some(observer) = &config.observer {
        (observer.0)(ctx.clone());
    }
    Ok(Started { ctx, listen })
}

/// Services 2 and 4–8 around the network, plus sync, the master prover and the head
/// metric; every queue between them is bounded.
fn spawn_services(
    ctx: &Arc<ServiceContext>,
    config: &NodeConfig,
    events: mpsc::Receiver<Event>,
    services: &Services,
) {
    let (frame_tx, frame_rx) = mpsc::channel(frame_validator::QUEUE_CAPACITY);
    let (verify_tx, verify_rx) = mpsc::channel(challenge_proof_verifier::QUEUE_CAPACITY);
    let (bandwidth_tx, bandwidth_rx) = mpsc::channel(bandwidth_test::QUEUE_CAPACITY);
    let verifying = Verifying::default();
    let handler = ReportHandler {
        ctx: ctx.clone(),
        rules: config.network.report_rules.clone(),
        verify: verify_tx,
        bandwidth: bandwidth_tx,
        verifying: verifying.clone(),
    };
    let abort = OnStop::Abort;
    let subscriber = message_subscriber::run(ctx.clone(), events, frame_tx, handler);
    services.spawn_critical("message_subscriber", abort, ok(subscriber));
    let validator = frame_validator::run(ctx.clone(), frame_rx);
    services.spawn_critical("frame_validator", abort, ok(validator));
    let verifier = challenge_proof_verifier::run(ctx.clone(), verify_rx, verifying);
    services.spawn_critical("challenge_proof_verifier", abort, ok(verifier));
    let spread = bandwidth_test::spread_for(config.network.report_rules.window);
    let bandwidth = bandwidth_test::run(ctx.clone(), bandwidth_rx, spread);
    services.spawn_critical("bandwidth_test", abort, ok(bandwidth));
    let (c, stop) = (ctx.clone(), services.stop_signal());
    services.spawn_restarting("frame_sync", abort, move || {
        frame_sync::run(c.clone(), stop.clone())
    });
    let pacing = master_prover::Pacing {
        idle: config.frame_interval,
        min_interval: config.min_frame_interval,
    };
    let (c, stop) = (ctx.clone(), services.stop_signal());
    services.spawn_restarting("master_prover", abort, move || {
        master_prover::run(c.clone(), pacing, stop.clone())
    });
    let c = ctx.clone();
    services.spawn_restarting("head_tracker", abort, move || c.clone().track_head());
}

/// A task that ends only when its input closes: it has no error of its own.
async fn ok(task: impl std::future::Future<Output = ()>) -> Result<(), std::convert::Infallible> {
    task.await;
    Ok(())
}
