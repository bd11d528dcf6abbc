//! Serving the direct channel: the streams peers open to us, as the connections of a gRPC
//! server whose `ValidationService` asks the node's [`DirectHandler`].

use super::{protocol, RemotePeer, CHANNEL_LIFETIME};
use crate::behaviour::{MAX_VALIDATION_BYTES, REQUEST_TIMEOUT};
use crate::rate_limit::{Rate, RateLimiter};
use crate::wire::{Command, DirectHandler, DirectKind, NetworkError};
use futures::StreamExt;
use libp2p::{PeerId, Stream};
use libp2p_stream::Control;
use prost::Message;
use qnode_protocol::pb::node::validation_service_server::{
    ValidationService, ValidationServiceServer,
};
use qnode_protocol::pb::node::{SyncRequest, SyncResponse, ValidationMessage};
use qnode_tasks::{OnStop, Services};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tokio_util::compat::{Compat, FuturesAsyncReadCompatExt};
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

/// Serves our direct channel as the task `direct_channel` under `tasks`: each peer may
/// open `rate` channels (a channel over the rate is closed unanswered), and the network
/// task hears of each (a peer whose request we serve is not trimmed meanwhile). It holds
/// the network task's commands weakly: the swarm still closes with its last handle.
pub(crate) fn serve(
    mut control: Control,
    own: PeerId,
    handler: Arc<dyn DirectHandler>,
    rate: Rate,
    commands: mpsc::Sender<Command>,
    tasks: &Services,
) -> Result<(), NetworkError> {
    let incoming = control
        .accept(protocol(&own)?)
        .map_err(NetworkError::setup)?;
    let mut limiter = RateLimiter::new(rate);
    let commands = commands.downgrade();
    let channels = incoming.filter_map(move |(peer, stream)| {
        let now = Instant::now();
        limiter.forget_idle(now);
        let allowed = limiter.allow(peer, now);
        if !allowed {
            tracing::debug!(%peer, "direct channel over the rate limit, closed");
        } else if let Some(commands) = commands.upgrade() {
            let _ = commands.try_send(Command::RequestReceived(peer));
        }
        let channel = allowed.then(|| Ok::<_, std::io::Error>(Channel::new(peer, stream)));
        futures::future::ready(channel)
    });
    let service = ValidationServiceServer::new(Validation { handler })
        .max_decoding_message_size(MAX_VALIDATION_BYTES)
        .max_encoding_message_size(MAX_VALIDATION_BYTES);
    let (mut stop, mut stopped) = (tasks.stop_signal(), tasks.stop_signal());
    let server = tonic::transport::Server::builder()
        .timeout(REQUEST_TIMEOUT)
        .max_connection_age(CHANNEL_LIFETIME)
        .add_service(service)
        .serve_with_incoming_shutdown(channels, async move {
            let _ = stop.wait_for(|stop| *stop).await;
        });
    let server = async move {
        server.await?;
        // The streams end when the swarm closes with its last handle: like `swarm`, that
        // is its owner's choice, not a failure.
        let _ = stopped.wait_for(|stop| *stop).await;
        Ok::<(), tonic::transport::Error>(())
    };
    tasks.spawn_critical("direct_channel", OnStop::Abort, server);
    Ok(())
}

/// The node's answers, through the handler (which decodes the request itself, with its
/// own bounds).
struct Validation {
    handler: Arc<dyn DirectHandler>,
}

impl Validation {
    fn answer<T: Message>(
        &self,
        peer: RemotePeer,
        kind: DirectKind,
        request: &T,
    ) -> Option<Vec<u8>> {
        self.handler.handle(peer.0, kind, &request.encode_to_vec())
    }
}

fn remote<T>(request: &Request<T>) -> Result<RemotePeer, Status> {
    let peer = request.extensions().get::<RemotePeer>().copied();
    peer.ok_or_else(|| Status::internal("a direct channel without its peer"))
}

type Batches = futures::stream::Iter<std::option::IntoIter<Result<SyncResponse, Status>>>;

#[tonic::async_trait]
impl ValidationService for Validation {
    async fn perform_validation(
        &self,
        request: Request<ValidationMessage>,
    ) -> Result<Response<ValidationMessage>, Status> {
        let peer = remote(&request)?;
        let answer = self.answer(peer, DirectKind::Validation, request.get_ref());
        let answer = answer.ok_or_else(|| Status::invalid_argument("not a validation message"))?;
        ValidationMessage::decode(answer.as_slice())
            .map(Response::new)
            .map_err(|e| Status::internal(e.to_string()))
    }

    type SyncStream = Batches;

    /// One batch (at most 16 frames from the requested one); none when there is nothing to
    /// send, as the original ends its stream.
    async fn sync(&self, request: Request<SyncRequest>) -> Result<Response<Batches>, Status> {
        let peer = remote(&request)?;
        let answer = self.answer(peer, DirectKind::Sync, request.get_ref());
        let batch = answer
            .map(|bytes| SyncResponse::decode(bytes.as_slice()))
            .transpose()
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(futures::stream::iter(batch.map(Ok))))
    }
}

/// A stream a peer opened to our direct channel, as the gRPC server's connection.
struct Channel {
    peer: PeerId,
    io: Compat<Stream>,
}

impl Channel {
    fn new(peer: PeerId, stream: Stream) -> Channel {
        Channel {
            peer,
            io: stream.compat(),
        }
    }
}

impl Connected for Channel {
    type ConnectInfo = RemotePeer;

    fn connect_info(&self) -> RemotePeer {
        RemotePeer(self.peer)
    }
}

impl AsyncRead for Channel {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Channel {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
