//! The BlossomSub router: gossipsub v1.1's mesh, fanout, gossip and control over bitmasks,
//! as the original's `BlossomSubRouter` runs it with the node's settings. Differences, on
//! purpose:
//! - a received message is forwarded only after the node's verdict (the original forwards
//!   whatever is signed, then judges it);
//! - no peer exchange is sent or followed, and no direct peers (the original sends PX only
//!   from bootstrap nodes);
//! - a peer's score is its application score times 10 and nothing else, which is what the
//!   original's parameters amount to (every other weight is 0).

mod heartbeat;
mod receive;
mod send;

use crate::cache::{MessageCache, SeenCache};
use crate::handler::{Handler, HandlerIn, HandlerOut};
use crate::message::MessageId;
use crate::params::{Params, Thresholds, APP_SCORE_WEIGHT};
use crate::rpc;
use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};
use qnode_identity::NodeKey;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A bitmask: the bytes messages are published to.
pub type Bitmask = Vec<u8>;

/// How long a peer's application score outlives its connection (the original's
/// `RetainScore`).
const RETAIN_SCORE: Duration = Duration::from_secs(300);
/// How long a message may wait for the node's verdict before it is dropped.
const VERDICT_TIMEOUT: Duration = Duration::from_secs(60);
/// The most message ids remembered as seen.
const SEEN_CAPACITY: usize = 200_000;

/// What the router reports.
#[derive(Debug)]
pub enum Event {
    /// A new, correctly signed message the node must judge with
    /// [`Behaviour::report_validation`] before it is forwarded.
    Message {
        /// The peer it came from.
        propagation_source: PeerId,
        /// Its id.
        message_id: MessageId,
        /// Its author (`from`, whose signature it carries).
        author: PeerId,
        /// The message.
        message: Box<rpc::Message>,
    },
    /// A peer subscribed to a bitmask.
    Subscribed {
        /// The peer.
        peer_id: PeerId,
        /// The bitmask.
        bitmask: Bitmask,
    },
    /// A peer unsubscribed from a bitmask.
    Unsubscribed {
        /// The peer.
        peer_id: PeerId,
        /// The bitmask.
        bitmask: Bitmask,
    },
    /// A peer opened a new stream to us on a connection whose earlier one it had ended,
    /// which the original node does when writing to us failed; it then forgets our
    /// subscriptions, so they were sent to it again.
    StreamRenewed {
        /// The peer.
        peer_id: PeerId,
    },
}

/// The node's verdict on a received message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acceptance {
    /// Valid: forward it.
    Accept,
    /// Invalid: drop it.
    Reject,
    /// Not for us (stale, over a rate): drop it.
    Ignore,
}

/// Why a message could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The payload is over the limit.
    #[error("message of {0} bytes is over the limit")]
    TooLarge(usize),
    /// The node key would not sign.
    #[error("{0}")]
    Signing(#[from] qnode_identity::KeyError),
}

/// Messages received since start: every copy, and the distinct ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Receipts {
    /// Every copy received, duplicates included.
    pub copies: u64,
    /// Distinct messages (first copies with a valid signature).
    pub unique: u64,
}

/// Counts of received messages, readable from any thread.
#[derive(Debug, Default)]
pub struct ReceiptCounter {
    copies: AtomicU64,
    unique: AtomicU64,
}

impl ReceiptCounter {
    /// The counts so far.
    pub fn get(&self) -> Receipts {
        Receipts {
            copies: self.copies.load(Ordering::Relaxed),
            unique: self.unique.load(Ordering::Relaxed),
        }
    }
}

struct Pending {
    message: rpc::Message,
    source: PeerId,
    since: Instant,
}

/// The BlossomSub behaviour.
pub struct Behaviour {
    key: Arc<NodeKey>,
    local: PeerId,
    params: Params,
    thresholds: Thresholds,
    seqno: u64,
    subscribed: HashSet<Bitmask>,
    /// Open connections per peer, the first one carries our RPCs.
    connections: HashMap<PeerId, Vec<ConnectionId>>,
    /// Peers we dialled (the mesh keeps some of them, against eclipse attacks).
    outbound: HashSet<PeerId>,
    peer_bitmasks: HashMap<PeerId, HashSet<Bitmask>>,
    bitmask_peers: HashMap<Bitmask, HashSet<PeerId>>,
    mesh: HashMap<Bitmask, HashSet<PeerId>>,
    fanout: HashMap<Bitmask, HashSet<PeerId>>,
    last_published: HashMap<Bitmask, Instant>,
    /// Until when a peer may not be grafted into a bitmask's mesh.
    backoff: HashMap<Bitmask, HashMap<PeerId, Instant>>,
    app_scores: HashMap<PeerId, f64>,
    /// When peers with a retained score disconnected.
    departed: HashMap<PeerId, Instant>,
    mcache: MessageCache,
    seen: SeenCache,
    pending: HashMap<MessageId, Pending>,
    /// IHAVEs read from and ids asked of each peer this heartbeat.
    ihaves_read: HashMap<PeerId, usize>,
    ids_asked: HashMap<PeerId, usize>,
    /// IHAVEs to send at the end of the heartbeat.
    gossip_out: HashMap<PeerId, Vec<rpc::ControlIHave>>,
    heartbeat: tokio::time::Interval,
    ticks: u64,
    receipts: Arc<ReceiptCounter>,
    events: VecDeque<ToSwarm<Event, HandlerIn>>,
}

impl Behaviour {
    /// A router publishing as `key`'s peer.
    pub fn new(key: Arc<NodeKey>, params: Params, thresholds: Thresholds) -> Self {
        let mut heartbeat = tokio::time::interval(params.heartbeat_interval);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Behaviour {
            local: key.peer_id(),
            key,
            mcache: MessageCache::new(params.history_length, params.history_gossip),
            seen: SeenCache::new(params.seen_ttl, SEEN_CAPACITY),
            params,
            thresholds,
            // The original starts its counter at the time in nanoseconds, so a restarted
            // node never repeats an id; so does qnode.
            seqno: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
            subscribed: HashSet::new(),
            connections: HashMap::new(),
            outbound: HashSet::new(),
            peer_bitmasks: HashMap::new(),
            bitmask_peers: HashMap::new(),
            mesh: HashMap::new(),
            fanout: HashMap::new(),
            last_published: HashMap::new(),
            backoff: HashMap::new(),
            app_scores: HashMap::new(),
            departed: HashMap::new(),
            pending: HashMap::new(),
            ihaves_read: HashMap::new(),
            ids_asked: HashMap::new(),
            gossip_out: HashMap::new(),
            heartbeat,
            ticks: 0,
            receipts: Arc::new(ReceiptCounter::default()),
            events: VecDeque::new(),
        }
    }

    /// The counts of received messages.
    pub fn receipts(&self) -> Arc<ReceiptCounter> {
        self.receipts.clone()
    }

    /// Sets a peer's application score (weighted by [`APP_SCORE_WEIGHT`]).
    pub fn set_application_score(&mut self, peer: &PeerId, score: f64) {
        self.app_scores.insert(*peer, score);
    }

    fn score(&self, peer: &PeerId) -> f64 {
        self.app_scores.get(peer).copied().unwrap_or(0.0) * APP_SCORE_WEIGHT
    }

    /// The score of a connected peer.
    pub fn peer_score(&self, peer: &PeerId) -> Option<f64> {
        self.connections
            .contains_key(peer)
            .then(|| self.score(peer))
    }

    /// The peers in our mesh of `bitmask`.
    pub fn mesh_peers(&self, bitmask: &[u8]) -> impl Iterator<Item = &PeerId> {
        self.mesh.get(bitmask).into_iter().flatten()
    }

    /// The peers in any of our meshes.
    pub fn all_mesh_peers(&self) -> impl Iterator<Item = &PeerId> {
        let all: HashSet<&PeerId> = self.mesh.values().flatten().collect();
        all.into_iter()
    }

    /// The peers subscribed to `bitmask`.
    pub fn bitmask_peers(&self, bitmask: &[u8]) -> impl Iterator<Item = &PeerId> {
        self.bitmask_peers.get(bitmask).into_iter().flatten()
    }

    fn first_connection(&self, peer: &PeerId) -> Option<ConnectionId> {
        self.connections.get(peer).and_then(|c| c.first().copied())
    }

    fn on_connection_established(&mut self, peer: PeerId, connection: ConnectionId, dialled: bool) {
        let connections = self.connections.entry(peer).or_default();
        connections.push(connection);
        if connections.len() > 1 {
            return;
        }
        self.departed.remove(&peer);
        if dialled {
            self.outbound.insert(peer);
        }
        self.send_hello(&peer);
    }

    /// The hello: our subscriptions (possibly none), which also opens our stream.
    fn send_hello(&mut self, peer: &PeerId) {
        let subscriptions = self
            .subscribed
            .iter()
            .map(|bitmask| rpc::SubOpts {
                subscribe: true,
                bitmask: bitmask.clone(),
            })
            .collect();
        self.send(
            peer,
            rpc::Rpc {
                subscriptions,
                ..Default::default()
            },
        );
    }

    fn on_connection_closed(&mut self, peer: PeerId, connection: ConnectionId) {
        let Some(connections) = self.connections.get_mut(&peer) else {
            return;
        };
        connections.retain(|c| *c != connection);
        if !connections.is_empty() {
            return;
        }
        self.connections.remove(&peer);
        self.forget_peer(&peer);
    }

    fn forget_peer(&mut self, peer: &PeerId) {
        self.outbound.remove(peer);
        if let Some(bitmasks) = self.peer_bitmasks.remove(peer) {
            for bitmask in bitmasks {
                if let Some(peers) = self.bitmask_peers.get_mut(&bitmask) {
                    peers.remove(peer);
                }
            }
        }
        for peers in self.mesh.values_mut().chain(self.fanout.values_mut()) {
            peers.remove(peer);
        }
        self.ihaves_read.remove(peer);
        self.ids_asked.remove(peer);
        self.gossip_out.remove(peer);
        self.departed.insert(*peer, Instant::now());
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = Handler;
    type ToSwarm = Event;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(Handler::new(
            self.params.max_rpc_bytes,
            self.params.max_queued_rpcs,
        ))
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(Handler::new(
            self.params.max_rpc_bytes,
            self.params.max_queued_rpcs,
        ))
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionEstablished(established) => self.on_connection_established(
                established.peer_id,
                established.connection_id,
                established.endpoint.is_dialer(),
            ),
            FromSwarm::ConnectionClosed(closed) => {
                self.on_connection_closed(closed.peer_id, closed.connection_id)
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        peer: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {
            HandlerOut::Rpc(rpc) => self.on_rpc(peer, rpc),
            HandlerOut::Unsupported => {
                tracing::debug!(%peer, "does not speak BlossomSub");
                self.forget_peer(&peer);
            }
            HandlerOut::Dropped(n) => {
                tracing::debug!(%peer, "{n} RPCs to a slow peer dropped");
            }
            HandlerOut::InboundRenewed => {
                // The original opens a new stream after its writer failed, and forgets
                // what we are subscribed to when it does: say it again.
                tracing::debug!(%peer, "the peer reopened its stream; our hello again");
                self.send_hello(&peer);
                self.events
                    .push_back(ToSwarm::GenerateEvent(Event::StreamRenewed {
                        peer_id: peer,
                    }));
            }
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Event, THandlerInEvent<Self>>> {
        if let Some(event) = self.events.pop_front() {
            return Poll::Ready(event);
        }
        while self.heartbeat.poll_tick(cx).is_ready() {
            self.heartbeat();
        }
        match self.events.pop_front() {
            Some(event) => Poll::Ready(event),
            None => Poll::Pending,
        }
    }
}
