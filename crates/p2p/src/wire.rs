//! The types the network's modules share, and nothing else: what goes on the wire
//! (bitmasks, direct requests and responses), what the node and the network task tell each
//! other (commands, events, verdicts) and the network's errors. A leaf (it uses only the
//! rate limiter's `Rate`), so `behaviour`, `driver` and `network` depend on it rather than
//! on each other's types.

use crate::rate_limit::Rate;
use libp2p::{Multiaddr, PeerId};
use std::sync::Arc;
use tokio::sync::oneshot;

/// The BlossomSub bitmask of a filter on a network: the network byte followed by the
/// filter, as the original publishes to it, so networks never share a bitmask.
pub fn bitmask_for(network: u8, filter: &[u8]) -> Vec<u8> {
    [&[network], filter].concat()
}

/// Why a network operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The swarm could not be built or could not listen.
    #[error("network setup: {0}")]
    Setup(#[source] BoxError),
    /// Publishing, dialing or a request failed.
    #[error("network: {0}")]
    Operation(#[source] BoxError),
    /// A direct request lost its connection before the answer came: one side closed it
    /// (for example trimming its peers), which says nothing about the peer's honesty.
    #[error("the connection closed before the answer came")]
    ConnectionClosed,
    /// A direct request found the peer disconnected and could not reach it again (or we
    /// are at our peer target and dial no one): again nothing about the peer's honesty.
    #[error("the peer is not connected and could not be dialled")]
    NotConnected,
    /// A direct request got no answer within [`crate::REQUEST_TIMEOUT`].
    #[error("no answer within {} s", crate::REQUEST_TIMEOUT.as_secs())]
    TimedOut,
    /// The network task has stopped.
    #[error("the network task has stopped")]
    Stopped,
}

/// A cause of any type, kept whole (libp2p's errors differ per call).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl NetworkError {
    pub(crate) fn setup(cause: impl Into<BoxError>) -> Self {
        NetworkError::Setup(cause.into())
    }

    pub(crate) fn operation(cause: impl Into<BoxError>) -> Self {
        NetworkError::Operation(cause.into())
    }
}

/// The two services of the direct channel (the original's `ValidationService`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectKind {
    /// `PerformValidation`: a `ValidationMessage`, answered with one (the bandwidth echo).
    Validation,
    /// `Sync`: a `SyncRequest`, answered with one `SyncResponse` batch.
    Sync,
}

/// Answers the direct channel's requests (the node's channel listener), on the channel's
/// server task. `None` answers a validation with an error and a sync with no batch.
pub trait DirectHandler: Send + Sync + 'static {
    /// The answer to `body` of `kind` from `from`.
    fn handle(&self, from: PeerId, kind: DirectKind, body: &[u8]) -> Option<Vec<u8>>;
}

/// What the network needs at start.
#[derive(Clone)]
pub struct NetworkConfig {
    /// The network id (0 is mainnet): it is in the gossip topics and the protocol names,
    /// so nodes of different networks share nothing.
    pub network: u8,
    /// Addresses to listen on (`/ip4/…/tcp/…`, `/ip4/…/udp/…/quic-v1`).
    pub listen: Vec<Multiaddr>,
    /// Peers to join through, each ending in `/p2p/<peer id>`; redialled while away and
    /// the node has fewer peers than its target.
    pub bootstrap: Vec<Multiaddr>,
    /// Serves the direct channel.
    pub handler: Arc<dyn DirectHandler>,
    /// Gossip messages accepted per relaying peer.
    pub gossip_rate: Rate,
    /// Direct requests served per peer.
    pub direct_rate: Rate,
    /// Peers Kademlia finds are dialled while fewer than this many are connected. Peers
    /// that dial us are accepted, but above a quarter over the target the lowest-scored
    /// are disconnected again (never bootstrap peers, the gossip mesh, new connections or
    /// one with a direct request in flight).
    pub peer_target: usize,
}

/// The default [`NetworkConfig::peer_target`]: enough for every node of a 20-node devnet
/// to see all the others; a network larger than that stays at this degree plus the peers
/// that dial in.
pub const DEFAULT_PEER_TARGET: usize = 64;

impl NetworkConfig {
    /// Listening on `listen` with the default rates and no bootstrap peers.
    pub fn new(listen: Vec<Multiaddr>, handler: Arc<dyn DirectHandler>) -> Self {
        NetworkConfig {
            network: 0,
            listen,
            bootstrap: Vec::new(),
            handler,
            gossip_rate: Rate {
                burst: 200.0,
                per_second: 50.0,
            },
            direct_rate: Rate {
                burst: 8.0,
                per_second: 2.0,
            },
            peer_target: DEFAULT_PEER_TARGET,
        }
    }
}

/// The node's judgement of a gossip message, which decides whether it is forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Valid: forward it.
    Accept,
    /// Invalid: drop it and penalise the peer that relayed it.
    Reject,
    /// Not useful (stale, duplicate, over a rate): drop it quietly.
    Ignore,
}

/// A gossip message waiting for the node's verdict.
#[derive(Debug, Clone)]
pub struct GossipMessage {
    /// Its BlossomSub id (author ‖ sequence number).
    pub id: qnode_blossomsub::MessageId,
    /// The peer that signed (authored) it.
    pub author: PeerId,
    /// The peer that relayed it to us.
    pub relayed_by: PeerId,
    /// The message bytes (an envelope).
    pub data: Vec<u8>,
}

/// What the network tells the node.
#[derive(Debug, Clone)]
pub enum Event {
    /// A gossip message on a subscribed filter; answer it with [`Network::judge`].
    Gossip(GossipMessage),
    /// A peer connected and showed it is on our network (by identify).
    Connected(PeerId),
    /// The last connection to a peer reported `Connected` closed.
    Disconnected(PeerId),
    /// A peer showed (by identify) that it is on another network or speaks an incompatible
    /// version; it was disconnected (and, if it was a bootstrap peer, is not dialled again).
    Foreign(PeerId),
}

pub(crate) type Reply<T> = oneshot::Sender<Result<T, NetworkError>>;

pub(crate) enum Command {
    Subscribe(Vec<u8>, Reply<()>),
    Publish(Vec<u8>, Vec<u8>, Reply<()>),
    Dial(Multiaddr, Reply<()>),
    /// We opened a direct channel to the peer (not trimmed until it is done).
    RequestSent(PeerId),
    /// Our request to the peer was answered or failed.
    RequestDone(PeerId),
    /// The peer opened a direct channel to us.
    RequestReceived(PeerId),
    Judge(GossipMessage, Verdict),
    SetScore(PeerId, f64),
    Connected(Reply<Vec<ConnectedPeer>>),
    Mesh(Vec<u8>, Reply<Vec<PeerId>>),
}

/// A peer with an open connection.
#[derive(Debug, Clone)]
pub struct ConnectedPeer {
    /// Its id.
    pub peer: PeerId,
    /// The remote address of each open connection.
    pub addresses: Vec<Multiaddr>,
    /// BlossomSub's score of it (our score × 10).
    pub score: Option<f64>,
}
