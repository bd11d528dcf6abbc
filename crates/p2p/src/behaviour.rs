//! The swarm's protocols and their settings: gossipsub with the original's peer-score
//! thresholds, identify, Kademlia, and the direct channel as request/response.

use crate::gate::PeerGate;
use crate::gossip_metrics::GossipMetrics;
use crate::wire::DEFAULT_PEER_TARGET;
use crate::wire::{DirectRequest, DirectResponse, NetworkError};
use libp2p::identity::Keypair;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{gossipsub, identify, kad, noise, tcp, yamux, StreamProtocol, Swarm};
use prometheus_client::registry::Registry;
use std::time::Duration;

/// The largest validation message (the 1 MiB bandwidth echo and some room).
pub const MAX_VALIDATION_BYTES: usize = 1024 * 1024 + 1024;
/// The largest gossip message (an envelope around a frame or report).
pub(crate) const MAX_GOSSIP_BYTES: usize = 64 * 1024;
/// The most peers gossipsub keeps in a topic's mesh (gossipsub's default, stated here
/// because trimming spares mesh peers: a peer target below it cannot hold).
pub const MESH_PEERS_MAX: usize = 12;
/// Every direct request gets an answer or fails within this time.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What a node of `network` names its protocols: the network is in each name, so nodes of
/// two networks that meet share no protocol (the original keeps its discovery per
/// network; qnode keeps Kademlia, the direct channel and identify apart too).
pub(crate) fn protocol_name(network: u8, name: &str) -> String {
    format!("/quilibrium/{network}/{name}")
}

/// The identify version of `network`: peers that announce another are disconnected.
pub(crate) fn identify_version(network: u8) -> String {
    protocol_name(network, "qnode/1")
}

fn stream_protocol(network: u8, name: &str) -> Result<StreamProtocol, NetworkError> {
    StreamProtocol::try_from_owned(protocol_name(network, name)).map_err(NetworkError::setup)
}

/// The original's thresholds (`node/p2p/blossomsub.go`): below −2000 no gossip is
/// exchanged with a peer, below −5000 we do not publish to it, below −10000 everything it
/// sends is ignored.
pub const GOSSIP_THRESHOLD: f64 = -2000.0;
/// See [`GOSSIP_THRESHOLD`].
pub const PUBLISH_THRESHOLD: f64 = -5000.0;
/// See [`GOSSIP_THRESHOLD`].
pub const GRAYLIST_THRESHOLD: f64 = -10000.0;
/// The node's own per-peer score enters gossipsub's score with this weight.
pub const APP_SCORE_WEIGHT: f64 = 10.0;

#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    pub(crate) gossipsub: gossipsub::Behaviour,
    pub(crate) identify: identify::Behaviour,
    pub(crate) kad: kad::Behaviour<kad::store::MemoryStore>,
    pub(crate) direct: request_response::cbor::Behaviour<DirectRequest, DirectResponse>,
    pub(crate) gate: PeerGate,
}

/// The original's score parameters: only the application score counts (no topic scores,
/// no IP colocation or behaviour penalties), decaying every 10 s, kept 5 minutes.
fn score_params() -> (gossipsub::PeerScoreParams, gossipsub::PeerScoreThresholds) {
    let params = gossipsub::PeerScoreParams {
        topic_score_cap: 0.0,
        app_specific_weight: APP_SCORE_WEIGHT,
        ip_colocation_factor_weight: 0.0,
        ip_colocation_factor_threshold: 6.0,
        behaviour_penalty_weight: 0.0,
        behaviour_penalty_threshold: 100.0,
        behaviour_penalty_decay: 0.5,
        decay_interval: Duration::from_secs(10),
        decay_to_zero: 0.1,
        retain_score: Duration::from_secs(300),
        ..Default::default()
    };
    let thresholds = gossipsub::PeerScoreThresholds {
        gossip_threshold: GOSSIP_THRESHOLD,
        publish_threshold: PUBLISH_THRESHOLD,
        graylist_threshold: GRAYLIST_THRESHOLD,
        accept_px_threshold: 1.0,
        opportunistic_graft_threshold: 2.0,
    };
    (params, thresholds)
}

fn gossipsub(key: &Keypair, registry: &mut Registry) -> Result<gossipsub::Behaviour, NetworkError> {
    let config = gossipsub::ConfigBuilder::default()
        .validation_mode(gossipsub::ValidationMode::Strict)
        // The node checks every message before it is forwarded.
        .validate_messages()
        .max_transmit_size(MAX_GOSSIP_BYTES)
        .heartbeat_interval(Duration::from_secs(1))
        .mesh_n_high(MESH_PEERS_MAX)
        .build()
        .map_err(NetworkError::setup)?;
    let (params, thresholds) = score_params();
    let mut metrics = gossipsub::MetricsConfig::default();
    metrics.buckets_using_scoring_thresholds(&thresholds);
    let mut behaviour =
        gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Signed(key.clone()), config)
            .map_err(NetworkError::setup)?
            .with_metrics(registry, metrics);
    behaviour
        .with_peer_score(params, thresholds)
        .map_err(NetworkError::setup)?;
    Ok(behaviour)
}

fn behaviour(
    key: &Keypair,
    network: u8,
    registry: &mut Registry,
) -> Result<Behaviour, NetworkError> {
    let peer_id = key.public().to_peer_id();
    let mut kad_config = kad::Config::new(stream_protocol(network, "kad/1.0.0")?);
    // The driver walks the DHT itself, only while the node is short of peers.
    kad_config.set_periodic_bootstrap_interval(None);
    let mut kad =
        kad::Behaviour::with_config(peer_id, kad::store::MemoryStore::new(peer_id), kad_config);
    // Every node answers DHT queries; there is no public-address detection on devnets.
    kad.set_mode(Some(kad::Mode::Server));
    let codec = request_response::cbor::codec::Codec::default()
        .set_request_size_maximum(MAX_VALIDATION_BYTES as u64 + 64)
        .set_response_size_maximum(MAX_VALIDATION_BYTES as u64 + 64);
    Ok(Behaviour {
        gossipsub: gossipsub(key, registry)?,
        identify: identify::Behaviour::new(identify::Config::new(
            identify_version(network),
            key.public(),
        )),
        kad,
        direct: request_response::cbor::Behaviour::with_codec(
            codec,
            [(
                stream_protocol(network, "validation/1")?,
                ProtocolSupport::Full,
            )],
            request_response::Config::default()
                .with_request_timeout(REQUEST_TIMEOUT)
                .with_max_concurrent_streams(64),
        ),
        // The driver sets the node's own target when it takes the swarm over.
        gate: PeerGate::new(DEFAULT_PEER_TARGET),
    })
}

/// A swarm on TCP (noise, yamux) and QUIC with `network`'s protocols, and what its
/// gossipsub counts.
pub(crate) fn build_swarm(
    key: Keypair,
    network: u8,
) -> Result<(Swarm<Behaviour>, GossipMetrics), NetworkError> {
    let mut registry = Registry::default();
    let behaviour = behaviour(&key, network, &mut registry)?;
    let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(NetworkError::setup)?
        .with_quic()
        .with_behaviour(|_| behaviour)
        .map_err(NetworkError::setup)?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    Ok((swarm, GossipMetrics::new(registry)))
}
