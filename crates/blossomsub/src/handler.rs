//! BlossomSub on one connection: one outbound stream the router's RPCs are written to, and
//! the peer's inbound stream its RPCs are read from (a newer one replaces an older one, as
//! the original resets duplicates). Frames are prefixed by their length as an unsigned
//! varint and bounded; a frame that does not decode ends the inbound stream.

use crate::rpc::Rpc;
use asynchronous_codec::Framed;
use bytes::Bytes;
use futures::{Sink, StreamExt};
use libp2p::core::upgrade::ReadyUpgrade;
use libp2p::swarm::handler::{
    ConnectionEvent, DialUpgradeError, FullyNegotiatedInbound, FullyNegotiatedOutbound,
};
use libp2p::swarm::{
    ConnectionHandler, ConnectionHandlerEvent, Stream, StreamUpgradeError, SubstreamProtocol,
};
use libp2p::StreamProtocol;
use prost::Message;
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use unsigned_varint::codec::UviBytes;

/// The protocol's name.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/blossomsub/1.2.0");
/// Failed attempts to open the outbound stream before the peer is taken not to speak it.
const MAX_OPEN_ATTEMPTS: u32 = 3;

/// What the router asks of a connection.
#[derive(Debug)]
pub enum HandlerIn {
    /// Write this encoded RPC.
    Send(Bytes),
}

/// What a connection tells the router.
#[derive(Debug)]
pub enum HandlerOut {
    /// The peer sent an RPC.
    Rpc(Rpc),
    /// The peer does not speak BlossomSub on this connection.
    Unsupported,
    /// RPCs to the peer were dropped because its queue was full.
    Dropped(usize),
    /// The peer opened another inbound stream on this connection.
    InboundRenewed,
}

type Frames = Framed<Stream, UviBytes<Bytes>>;

enum Outbound {
    Idle { attempts: u32 },
    Opening { attempts: u32 },
    Open { io: Box<Frames>, flushing: bool },
    Unsupported,
}

/// The connection's BlossomSub state.
pub struct Handler {
    max_rpc_bytes: usize,
    max_queued: usize,
    outbound: Outbound,
    queue: VecDeque<Bytes>,
    inbound: Option<Frames>,
    /// Whether the peer opened an inbound stream on this connection before.
    inbound_opened: bool,
    events: VecDeque<HandlerOut>,
}

impl Handler {
    pub(crate) fn new(max_rpc_bytes: usize, max_queued: usize) -> Self {
        Handler {
            max_rpc_bytes,
            max_queued,
            outbound: Outbound::Idle { attempts: 0 },
            queue: VecDeque::new(),
            inbound: None,
            inbound_opened: false,
            events: VecDeque::new(),
        }
    }

    fn framed(&self, stream: Stream) -> Frames {
        let mut codec = UviBytes::default();
        codec.set_max_len(self.max_rpc_bytes);
        Framed::new(stream, codec)
    }

    /// Writes queued RPCs; `Ready(Err)` when the stream failed.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let Outbound::Open { io, flushing } = &mut self.outbound else {
            return Poll::Pending;
        };
        while !self.queue.is_empty() {
            match Pin::new(&mut **io).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
            if let Some(rpc) = self.queue.pop_front() {
                Pin::new(&mut **io).start_send(rpc)?;
                *flushing = true;
            }
        }
        if *flushing {
            match Pin::new(&mut **io).poll_flush(cx) {
                Poll::Ready(Ok(())) => *flushing = false,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Pending
    }

    /// The next RPC the peer sent, if one is ready.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Option<Rpc> {
        let io = self.inbound.as_mut()?;
        loop {
            match io.poll_next_unpin(cx) {
                Poll::Pending => return None,
                Poll::Ready(Some(Ok(frame))) if frame.is_empty() => continue,
                Poll::Ready(Some(Ok(frame))) => match Rpc::decode(frame) {
                    Ok(rpc) => {
                        tracing::trace!(?rpc, "blossomsub: RPC received");
                        return Some(rpc);
                    }
                    Err(e) => {
                        tracing::debug!("blossomsub: undecodable RPC, stream closed: {e}");
                        self.inbound = None;
                        return None;
                    }
                },
                Poll::Ready(Some(Err(e))) => {
                    tracing::debug!("blossomsub: inbound stream failed: {e}");
                    self.inbound = None;
                    return None;
                }
                Poll::Ready(None) => {
                    tracing::debug!("blossomsub: inbound stream closed by the peer");
                    self.inbound = None;
                    return None;
                }
            }
        }
    }
}

impl ConnectionHandler for Handler {
    type FromBehaviour = HandlerIn;
    type ToBehaviour = HandlerOut;
    type InboundProtocol = ReadyUpgrade<StreamProtocol>;
    type OutboundProtocol = ReadyUpgrade<StreamProtocol>;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = ();

    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol, ()> {
        SubstreamProtocol::new(ReadyUpgrade::new(PROTOCOL), ())
    }

    fn connection_keep_alive(&self) -> bool {
        !matches!(self.outbound, Outbound::Unsupported)
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<Self::OutboundProtocol, (), HandlerOut>> {
        if let Some(event) = self.events.pop_front() {
            return Poll::Ready(ConnectionHandlerEvent::NotifyBehaviour(event));
        }
        if let Outbound::Idle { attempts } = self.outbound {
            if !self.queue.is_empty() {
                self.outbound = Outbound::Opening { attempts };
                return Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest {
                    protocol: SubstreamProtocol::new(ReadyUpgrade::new(PROTOCOL), ()),
                });
            }
        }
        if let Poll::Ready(Err(e)) = self.poll_write(cx) {
            tracing::debug!("blossomsub: outbound stream failed, reopening: {e}");
            self.outbound = Outbound::Idle { attempts: 0 };
            cx.waker().wake_by_ref();
        }
        match self.poll_read(cx) {
            Some(rpc) => Poll::Ready(ConnectionHandlerEvent::NotifyBehaviour(HandlerOut::Rpc(
                rpc,
            ))),
            None => Poll::Pending,
        }
    }

    fn on_behaviour_event(&mut self, event: HandlerIn) {
        let HandlerIn::Send(rpc) = event;
        if matches!(self.outbound, Outbound::Unsupported) {
            return;
        }
        if self.queue.len() >= self.max_queued {
            self.events.push_back(HandlerOut::Dropped(1));
            return;
        }
        self.queue.push_back(rpc);
    }

    fn on_connection_event(
        &mut self,
        event: ConnectionEvent<Self::InboundProtocol, Self::OutboundProtocol, (), ()>,
    ) {
        match event {
            ConnectionEvent::FullyNegotiatedInbound(FullyNegotiatedInbound {
                protocol: stream,
                ..
            }) => {
                tracing::debug!(
                    replaced = self.inbound.is_some(),
                    "blossomsub: inbound stream"
                );
                if self.inbound_opened {
                    self.events.push_back(HandlerOut::InboundRenewed);
                }
                self.inbound_opened = true;
                self.inbound = Some(self.framed(stream));
            }
            ConnectionEvent::FullyNegotiatedOutbound(FullyNegotiatedOutbound {
                protocol: stream,
                ..
            }) => {
                self.outbound = Outbound::Open {
                    io: Box::new(self.framed(stream)),
                    flushing: false,
                }
            }
            ConnectionEvent::DialUpgradeError(DialUpgradeError { error, .. }) => {
                let attempts = match self.outbound {
                    Outbound::Opening { attempts } => attempts + 1,
                    _ => 1,
                };
                if matches!(error, StreamUpgradeError::NegotiationFailed)
                    || attempts >= MAX_OPEN_ATTEMPTS
                {
                    self.outbound = Outbound::Unsupported;
                    self.queue.clear();
                    self.events.push_back(HandlerOut::Unsupported);
                } else {
                    self.outbound = Outbound::Idle { attempts };
                }
            }
            _ => {}
        }
    }
}
