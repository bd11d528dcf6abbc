//! Applies the peer budget as connections are made: the swarm asks this behaviour before
//! it dials and before it keeps a connection a peer opened, whoever asked for it
//! (Kademlia, request/response or the driver). It also keeps the [`Trimmer`]'s view of
//! who is connected, so the count the gate decides on is the one trimming uses.

use crate::trim::Trimmer;
use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::swarm::behaviour::{ConnectionClosed, ConnectionEstablished, DialFailure};
use libp2p::swarm::{
    dummy, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};
use std::collections::HashSet;
use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::Instant;

/// Why the gate refused a connection.
#[derive(Debug, thiserror::Error)]
enum OverBudget {
    #[error("we have our target of peers: not dialling more")]
    Dialling,
    #[error("we are at our ceiling of peers: not accepting more")]
    Accepting,
}

pub(crate) struct PeerGate {
    pub(crate) trimmer: Trimmer,
    /// Our dials not yet connected or failed: a Kademlia walk asks for a score of dials
    /// at once, and counting only established connections would let all of them through.
    dialling: HashSet<ConnectionId>,
}

impl PeerGate {
    pub(crate) fn new(target: usize) -> Self {
        PeerGate {
            trimmer: Trimmer::new(target),
            dialling: HashSet::new(),
        }
    }
}

impl NetworkBehaviour for PeerGate {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_pending_outbound_connection(
        &mut self,
        connection: ConnectionId,
        peer: Option<PeerId>,
        _: &[Multiaddr],
        _: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        if !self.trimmer.may_dial(peer.as_ref(), self.dialling.len()) {
            return Err(ConnectionDenied::new(OverBudget::Dialling));
        }
        self.dialling.insert(connection);
        Ok(Vec::new())
    }

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        if self.trimmer.may_accept(&peer) {
            Ok(dummy::ConnectionHandler)
        } else {
            Err(ConnectionDenied::new(OverBudget::Accepting))
        }
    }

    fn handle_established_outbound_connection(
        &mut self,
        connection: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.dialling.remove(&connection);
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionEstablished(ConnectionEstablished { peer_id, .. }) => {
                self.trimmer.connected(peer_id, Instant::now());
            }
            FromSwarm::ConnectionClosed(ConnectionClosed {
                peer_id,
                remaining_established: 0,
                ..
            }) => self.trimmer.disconnected(&peer_id),
            FromSwarm::DialFailure(DialFailure { connection_id, .. }) => {
                self.dialling.remove(&connection_id);
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}
