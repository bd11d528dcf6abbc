//! qnode's peer-to-peer layer on rust-libp2p.
//!
//! - Identity: the node's key (`qnode-identity`): Ed448, as the original's, or Ed25519.
//! - Transports: TCP secured by qnode's own Noise upgrade ([`noise`]: rust-libp2p's takes
//!   no Ed448) and multiplexed by yamux; QUIC too under an Ed25519 key.
//! - Identify: qnode's own `/ipfs/id/1.0.0` ([`identify`]), for both key types.
//! - Networks: the network id (0 is mainnet) is the first byte of every BlossomSub bitmask
//!   and in the protocol names and identify's protocol version; a peer that announces
//!   another is disconnected and never reported to the node, and a bootstrap peer of
//!   another network is dropped.
//! - Discovery: Kademlia (`/quilibrium/<network>/kad/1.0.0`, every node a server) seeded
//!   with bootstrap peers; while the node has fewer peers than its target, absent
//!   bootstrap peers are redialled and what Kademlia finds is dialled. At the target no
//!   new connection is opened, past a ceiling none is accepted, and connections far over
//!   the target are trimmed, as the original's connection manager does.
//! - Gossip: BlossomSub (`qnode-blossomsub`), the original's pubsub: one bitmask per filter
//!   (the network byte and the filter), StrictSign with the host key, forwarded only after
//!   the node's verdict, with the original's peer-score thresholds on the node's own
//!   per-peer score.
//! - Direct channel: the original's, gRPC `ValidationService` over a libp2p stream on
//!   `/p2p/direct-channel/<server's peer id>validation` (the `direct` module), bounded in
//!   size and time.
//! - Every peer is rate-limited on gossip and on the direct channels it opens.

mod behaviour;
mod direct;
mod driver;
mod gate;
pub mod identify;
mod network;
pub mod noise;
mod rate_limit;
mod trim;
mod wire;

pub use behaviour::transport;
pub use behaviour::{
    APP_SCORE_WEIGHT, GOSSIP_THRESHOLD, GRAYLIST_THRESHOLD, MAX_VALIDATION_BYTES, MESH_PEERS_MAX,
    PUBLISH_THRESHOLD, REQUEST_TIMEOUT,
};
pub use libp2p::multiaddr;
pub use libp2p::{Multiaddr, PeerId};
pub use network::{bootstrap_peer, BoundSwarm, Network};
pub use qnode_blossomsub::Receipts as GossipReceipts;
pub use qnode_identity::{KeyType, NodeKey};
pub use rate_limit::Rate;
pub use wire::{
    bitmask_for, ConnectedPeer, DirectHandler, DirectKind, Event, GossipMessage, NetworkConfig,
    NetworkError, Verdict, DEFAULT_PEER_TARGET,
};
