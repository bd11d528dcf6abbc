//! Identify on one connection: asks the peer once, answers each time it asks.

use super::message::{self, IdentifyMessage};
use super::{Info, LocalInfo, PROTOCOL};
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use libp2p::core::upgrade::ReadyUpgrade;
use libp2p::swarm::handler::{
    ConnectionEvent, FullyNegotiatedInbound, FullyNegotiatedOutbound, ProtocolSupport,
    ProtocolsChange,
};
use libp2p::swarm::{ConnectionHandler, ConnectionHandlerEvent, Stream, SubstreamProtocol};
use libp2p::{Multiaddr, PeerId, StreamProtocol};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// An exchange that takes longer is abandoned.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Handler {
    peer: PeerId,
    local: Arc<LocalInfo>,
    listen_addrs: Vec<Multiaddr>,
    observed: Multiaddr,
    /// The protocols this node speaks on the connection, as the swarm reports them.
    protocols: HashSet<StreamProtocol>,
    asked: bool,
    /// Answers being written (yielding `None`) and the question being read.
    exchanges: FuturesUnordered<BoxFuture<'static, Option<Info>>>,
    /// What the peer's answer tells the swarm and the behaviour.
    pending: VecDeque<ConnectionHandlerEvent<ReadyUpgrade<StreamProtocol>, (), Info>>,
}

impl Handler {
    pub(crate) fn new(
        peer: PeerId,
        local: Arc<LocalInfo>,
        listen_addrs: Vec<Multiaddr>,
        observed: Multiaddr,
    ) -> Self {
        Handler {
            peer,
            local,
            listen_addrs,
            observed,
            protocols: HashSet::new(),
            asked: false,
            exchanges: FuturesUnordered::new(),
            pending: VecDeque::new(),
        }
    }

    fn our_message(&self) -> IdentifyMessage {
        IdentifyMessage {
            public_key: Some(self.local.public_key.clone()),
            listen_addrs: self.listen_addrs.iter().map(|a| a.to_vec()).collect(),
            protocols: self.protocols.iter().map(|p| p.to_string()).collect(),
            observed_addr: Some(self.observed.to_vec()),
            protocol_version: Some(self.local.protocol_version.clone()),
            agent_version: Some(self.local.agent_version.clone()),
            signed_peer_record: None,
        }
    }

    fn answer(&mut self, stream: Stream) {
        let ours = self.our_message();
        let peer = self.peer;
        self.exchanges.push(
            async move {
                match tokio::time::timeout(EXCHANGE_TIMEOUT, message::write(stream, &ours)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::debug!(%peer, "identify: answering failed: {e}"),
                    Err(_) => tracing::debug!(%peer, "identify: answering timed out"),
                }
                None
            }
            .boxed(),
        );
    }

    fn ask(&mut self, stream: Stream) {
        let peer = self.peer;
        self.exchanges.push(
            async move {
                let message =
                    match tokio::time::timeout(EXCHANGE_TIMEOUT, message::read(stream)).await {
                        Ok(Ok(message)) => message,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, "identify: unreadable answer: {e}");
                            return None;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "identify: no answer in time");
                            return None;
                        }
                    };
                message::check(message, &peer)
                    .map_err(|e| tracing::debug!(%peer, "identify: answer refused: {e}"))
                    .ok()
            }
            .boxed(),
        );
    }
}

impl ConnectionHandler for Handler {
    type FromBehaviour = std::convert::Infallible;
    type ToBehaviour = Info;
    type InboundProtocol = ReadyUpgrade<StreamProtocol>;
    type OutboundProtocol = ReadyUpgrade<StreamProtocol>;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = ();

    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol, ()> {
        SubstreamProtocol::new(ReadyUpgrade::new(PROTOCOL), ())
    }

    fn connection_keep_alive(&self) -> bool {
        !self.exchanges.is_empty() || !self.pending.is_empty()
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<Self::OutboundProtocol, (), Info>> {
        if !self.asked {
            self.asked = true;
            return Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest {
                protocol: SubstreamProtocol::new(ReadyUpgrade::new(PROTOCOL), ()),
            });
        }
        while let Poll::Ready(Some(done)) = self.exchanges.poll_next_unpin(cx) {
            if let Some(info) = done {
                // Other protocols (Kademlia) learn what the peer speaks from identify.
                let protocols: HashSet<StreamProtocol> = info
                    .protocols
                    .iter()
                    .filter_map(|p| StreamProtocol::try_from_owned(p.clone()).ok())
                    .collect();
                self.pending
                    .push_back(ConnectionHandlerEvent::ReportRemoteProtocols(
                        ProtocolSupport::Added(protocols),
                    ));
                self.pending
                    .push_back(ConnectionHandlerEvent::NotifyBehaviour(info));
            }
        }
        match self.pending.pop_front() {
            Some(event) => Poll::Ready(event),
            None => Poll::Pending,
        }
    }

    fn on_behaviour_event(&mut self, event: Self::FromBehaviour) {
        match event {}
    }

    fn on_connection_event(
        &mut self,
        event: ConnectionEvent<Self::InboundProtocol, Self::OutboundProtocol, (), ()>,
    ) {
        match event {
            ConnectionEvent::FullyNegotiatedInbound(FullyNegotiatedInbound {
                protocol: stream,
                ..
            }) => self.answer(stream),
            ConnectionEvent::FullyNegotiatedOutbound(FullyNegotiatedOutbound {
                protocol: stream,
                ..
            }) => self.ask(stream),
            ConnectionEvent::DialUpgradeError(failed) => {
                tracing::debug!(peer = %self.peer, "identify: cannot ask: {}", failed.error);
            }
            ConnectionEvent::LocalProtocolsChange(ProtocolsChange::Added(added)) => {
                self.protocols.extend(added.cloned());
            }
            ConnectionEvent::LocalProtocolsChange(ProtocolsChange::Removed(removed)) => {
                for protocol in removed {
                    self.protocols.remove(protocol);
                }
            }
            _ => {}
        }
    }
}
