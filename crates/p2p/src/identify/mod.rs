//! libp2p's identify protocol (`/ipfs/id/1.0.0`) for qnode's identities, Ed448 as well as
//! Ed25519 (rust-libp2p's identify takes only its own key types).
//!
//! On every connection each side asks the other once: it opens a stream, the other writes
//! one length-prefixed `Identify` message (its key, listen addresses, protocols, protocol
//! and agent versions, the address it sees us at) and closes it. An answer is believed
//! only when its key is the connection's peer's; one over [`MAX_INFO_BYTES`], malformed or
//! late is dropped and logged. Identify push is not spoken.

mod handler;
mod message;

pub use message::{IdentifyMessage, MAX_INFO_BYTES};

use handler::Handler;
use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId, StreamProtocol};
use qnode_identity::PublicKey;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::task::{Context, Poll};

/// The protocol's name.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/ipfs/id/1.0.0");

/// What a peer said about itself.
#[derive(Clone, Debug)]
pub struct Info {
    /// Its key (its peer id's).
    pub public_key: PublicKey,
    /// The protocol version it announces.
    pub protocol_version: String,
    /// Its software.
    pub agent_version: String,
    /// Where it listens (addresses that did not parse are left out).
    pub listen_addrs: Vec<Multiaddr>,
    /// The protocols it speaks.
    pub protocols: Vec<String>,
    /// Where it sees us.
    pub observed_addr: Option<Multiaddr>,
}

/// What identify reports.
#[derive(Debug)]
pub enum Event {
    /// A peer identified itself.
    Received {
        /// The peer.
        peer_id: PeerId,
        /// What it said.
        info: Info,
    },
}

/// What this node says about itself.
pub(crate) struct LocalInfo {
    pub(crate) public_key: Vec<u8>,
    pub(crate) protocol_version: String,
    pub(crate) agent_version: String,
}

/// The identify behaviour.
pub struct Behaviour {
    local: Arc<LocalInfo>,
    listen_addrs: HashSet<Multiaddr>,
    events: VecDeque<Event>,
}

impl Behaviour {
    /// Identifies this node by `public_key` and `protocol_version`.
    pub fn new(public_key: &PublicKey, protocol_version: String) -> Self {
        Behaviour {
            local: Arc::new(LocalInfo {
                public_key: public_key.encode_protobuf(),
                protocol_version,
                agent_version: format!("qnode/{}", env!("CARGO_PKG_VERSION")),
            }),
            listen_addrs: HashSet::new(),
            events: VecDeque::new(),
        }
    }

    fn handler(&self, peer: PeerId, observed: &Multiaddr) -> Handler {
        Handler::new(
            peer,
            self.local.clone(),
            self.listen_addrs.iter().cloned().collect(),
            observed.clone(),
        )
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = Handler;
    type ToSwarm = Event;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler(peer, remote_addr))
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler(peer, addr))
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::NewListenAddr(new) => {
                self.listen_addrs.insert(new.addr.clone());
            }
            FromSwarm::ExpiredListenAddr(expired) => {
                self.listen_addrs.remove(expired.addr);
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        peer_id: PeerId,
        _: ConnectionId,
        info: THandlerOutEvent<Self>,
    ) {
        self.events.push_back(Event::Received { peer_id, info });
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Event, THandlerInEvent<Self>>> {
        match self.events.pop_front() {
            Some(event) => Poll::Ready(ToSwarm::GenerateEvent(event)),
            None => Poll::Pending,
        }
    }
}
