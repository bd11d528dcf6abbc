//! qnode's peer-to-peer layer on rust-libp2p.
//!
//! - Identity: an Ed25519 key pair in the config directory (rust-libp2p has no Ed448, the
//!   original's identity type), so peer ids differ from the original's.
//! - Transports: TCP with noise and yamux, and QUIC.
//! - Networks: the network id (0 is mainnet) is in every gossip topic and protocol name,
//!   and in identify's protocol version; a peer that announces another is disconnected
//!   and never reported to the node, and a bootstrap peer of another network is dropped.
//! - Discovery: Kademlia (`/quilibrium/<network>/kad/1.0.0`, every node a server) seeded
//!   with bootstrap peers; while the node has fewer peers than its target, absent
//!   bootstrap peers are redialled and what Kademlia finds is dialled. At the target no
//!   new connection is opened, past a ceiling none is accepted, and connections far over
//!   the target are trimmed, as the original's connection manager does.
//! - Gossip: gossipsub, one topic per filter named `quilibrium/bitmask/<hex>` of the
//!   network byte and the filter (the original's BlossomSub bitmask), signed messages,
//!   forwarded only after the node's verdict, with the original's peer-score thresholds on
//!   the node's own per-peer score.
//! - Direct channel: request/response on `/quilibrium/<network>/validation/1` carrying the
//!   original's `ValidationService` messages (protobuf bytes), bounded in size and time.
//! - Every peer is rate-limited on gossip and on direct requests.

mod behaviour;
mod driver;
mod gate;
mod gossip_metrics;
mod identity;
mod network;
mod rate_limit;
mod trim;
mod wire;

pub use behaviour::{
    APP_SCORE_WEIGHT, GOSSIP_THRESHOLD, GRAYLIST_THRESHOLD, MAX_VALIDATION_BYTES, MESH_PEERS_MAX,
    PUBLISH_THRESHOLD, REQUEST_TIMEOUT,
};
pub use gossip_metrics::GossipReceipts;
pub use identity::{
    create_identity, load_identity, load_or_create_identity, save_identity, IDENTITY_FILE,
};
pub use libp2p::identity::Keypair;
pub use libp2p::{Multiaddr, PeerId};
pub use network::{bootstrap_peer, BoundSwarm, Network};
pub use rate_limit::Rate;
pub use wire::{
    topic_for, ConnectedPeer, DirectHandler, DirectKind, Event, GossipMessage, NetworkConfig,
    NetworkError, Verdict, DEFAULT_PEER_TARGET,
};
