//! The swarm's protocols and their settings: BlossomSub with the original's parameters and
//! peer-score thresholds, identify, Kademlia, and the streams the direct channel runs on;
//! and its transports: TCP secured by qnode's Noise (Ed448 or Ed25519 identities) with
//! yamux, and QUIC for Ed25519 identities (rust-libp2p's QUIC takes only its own keys).

use crate::gate::PeerGate;
use crate::identify;
use crate::noise::NoiseConfig;
use crate::wire::NetworkError;
use crate::wire::DEFAULT_PEER_TARGET;
use futures::future::Either;
use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::{Boxed, OrTransport};
use libp2p::core::upgrade::Version;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{kad, quic, tcp, yamux, PeerId, StreamProtocol, Swarm, Transport};
use qnode_blossomsub as blossomsub;
use qnode_identity::NodeKey;
use std::sync::Arc;
use std::time::Duration;

/// The largest validation message (the 1 MiB bandwidth echo and some room).
pub const MAX_VALIDATION_BYTES: usize = 1024 * 1024 + 1024;
/// The largest gossip message (an envelope around a frame or report).
pub(crate) const MAX_GOSSIP_BYTES: usize = 64 * 1024;
/// The most peers BlossomSub keeps in a bitmask's mesh (its D_hi, stated here because
/// trimming spares mesh peers: a peer target below it cannot hold).
pub const MESH_PEERS_MAX: usize = 12;
/// Every direct request gets an answer or fails within this time.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What a node of `network` names its own protocols (Kademlia, identify's version): nodes
/// of two networks that meet share neither. The direct channel is the original's, named
/// after the server's peer id ([`crate::direct`]); only peers of our network ask it.
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
/// The node's own per-peer score enters BlossomSub's score with this weight.
pub const APP_SCORE_WEIGHT: f64 = blossomsub::APP_SCORE_WEIGHT;

#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    pub(crate) pubsub: blossomsub::Behaviour,
    pub(crate) identify: identify::Behaviour,
    pub(crate) kad: kad::Behaviour<kad::store::MemoryStore>,
    /// The direct channel's streams (see [`crate::direct`]).
    pub(crate) streams: libp2p_stream::Behaviour,
    pub(crate) gate: PeerGate,
}

fn pubsub(key: Arc<NodeKey>) -> blossomsub::Behaviour {
    let params = blossomsub::Params {
        max_data_bytes: MAX_GOSSIP_BYTES,
        ..blossomsub::Params::default()
    };
    let thresholds = blossomsub::Thresholds {
        gossip: GOSSIP_THRESHOLD,
        publish: PUBLISH_THRESHOLD,
        graylist: GRAYLIST_THRESHOLD,
        ..blossomsub::Thresholds::default()
    };
    blossomsub::Behaviour::new(key, params, thresholds)
}

fn behaviour(key: &Arc<NodeKey>, network: u8) -> Result<Behaviour, NetworkError> {
    let peer_id = key.peer_id();
    let mut kad_config = kad::Config::new(stream_protocol(network, "kad/1.0.0")?);
    // The driver walks the DHT itself, only while the node is short of peers.
    kad_config.set_periodic_bootstrap_interval(None);
    let mut kad =
        kad::Behaviour::with_config(peer_id, kad::store::MemoryStore::new(peer_id), kad_config);
    // Every node answers DHT queries; there is no public-address detection on devnets.
    kad.set_mode(Some(kad::Mode::Server));
    Ok(Behaviour {
        pubsub: pubsub(key.clone()),
        identify: identify::Behaviour::new(&key.public(), identify_version(network)),
        kad,
        streams: libp2p_stream::Behaviour::new(),
        // The driver sets the node's own target when it takes the swarm over.
        gate: PeerGate::new(DEFAULT_PEER_TARGET),
    })
}

/// Connections whose security and muxer take longer to set up are dropped.
const UPGRADE_TIMEOUT: Duration = Duration::from_secs(20);

/// TCP secured by qnode's Noise and multiplexed by yamux; with an Ed25519 key, QUIC too.
pub fn transport(key: &Arc<NodeKey>) -> Boxed<(PeerId, StreamMuxerBox)> {
    let tcp = tcp::tokio::Transport::new(tcp::Config::default().nodelay(true))
        .upgrade(Version::V1Lazy)
        .authenticate(NoiseConfig::new(key.clone()))
        .multiplex(yamux::Config::default())
        .timeout(UPGRADE_TIMEOUT);
    match key.as_libp2p() {
        Some(libp2p_key) => {
            let quic = quic::tokio::Transport::new(quic::Config::new(libp2p_key));
            OrTransport::new(quic, tcp)
                .map(|either, _| match either {
                    Either::Left((peer, connection)) => (peer, StreamMuxerBox::new(connection)),
                    Either::Right((peer, connection)) => (peer, StreamMuxerBox::new(connection)),
                })
                .boxed()
        }
        None => tcp
            .map(|(peer, connection), _| (peer, StreamMuxerBox::new(connection)))
            .boxed(),
    }
}

/// Whether a node with `key` can use QUIC addresses.
pub(crate) fn speaks_quic(key: &NodeKey) -> bool {
    key.as_libp2p().is_some()
}

/// A swarm of `network` with `key`'s identity, and the counts of the gossip it receives.
pub(crate) fn build_swarm(
    key: Arc<NodeKey>,
    network: u8,
) -> Result<(Swarm<Behaviour>, Arc<blossomsub::ReceiptCounter>), NetworkError> {
    let behaviour = behaviour(&key, network)?;
    let receipts = behaviour.pubsub.receipts();
    let swarm = Swarm::new(
        transport(&key),
        behaviour,
        key.peer_id(),
        libp2p::swarm::Config::with_tokio_executor()
            .with_idle_connection_timeout(Duration::from_secs(60)),
    );
    Ok((swarm, receipts))
}
