//! Asking a peer on its direct channel: a gRPC client over a stream opened to it.

use super::protocol;
use crate::behaviour::MAX_VALIDATION_BYTES;
use crate::wire::{DirectKind, NetworkError};
use hyper_util::rt::TokioIo;
use libp2p::PeerId;
use libp2p_stream::{Control, OpenStreamError};
use prost::Message;
use qnode_protocol::pb::node::validation_service_client::ValidationServiceClient;
use qnode_protocol::pb::node::{SyncRequest, ValidationMessage};
use tokio_util::compat::FuturesAsyncReadCompatExt;
use tonic::transport::{Endpoint, Uri};
use tonic::Code;

/// Sends `body` (a `ValidationMessage` or a `SyncRequest`, by `kind`) to `peer` and returns
/// its answer's bytes: the echoed message, or the first `SyncResponse` of the stream (the
/// original sends a batch a second until its head; the caller asks again from where the
/// batch ends). An empty `Sync` stream gives an empty answer. The caller bounds the time.
pub(crate) async fn call(
    control: Control,
    peer: PeerId,
    kind: DirectKind,
    body: &[u8],
) -> Result<Vec<u8>, NetworkError> {
    let mut client = ValidationServiceClient::new(open(control, peer).await?)
        .max_decoding_message_size(MAX_VALIDATION_BYTES)
        .max_encoding_message_size(MAX_VALIDATION_BYTES);
    match kind {
        DirectKind::Validation => {
            let message = ValidationMessage::decode(body).map_err(NetworkError::operation)?;
            let answer = client.perform_validation(message).await;
            Ok(answer.map_err(failure)?.into_inner().encode_to_vec())
        }
        DirectKind::Sync => {
            let request = SyncRequest::decode(body).map_err(NetworkError::operation)?;
            let mut batches = client.sync(request).await.map_err(failure)?.into_inner();
            let first = batches.message().await.map_err(failure)?;
            Ok(first.map(|batch| batch.encode_to_vec()).unwrap_or_default())
        }
    }
}

/// A channel to `peer`: HTTP/2 over one new stream on its direct-channel protocol.
async fn open(control: Control, peer: PeerId) -> Result<tonic::transport::Channel, NetworkError> {
    let protocol = protocol(&peer)?;
    let connector = tower::service_fn(move |_: Uri| {
        let (mut control, protocol) = (control.clone(), protocol.clone());
        async move {
            let stream = control.open_stream(peer, protocol).await?;
            Ok::<_, OpenStreamError>(TokioIo::new(stream.compat()))
        }
    });
    // The address is only the HTTP/2 authority; the connector says where the bytes go.
    Endpoint::from_static("http://direct-channel")
        .connect_with_connector(connector)
        .await
        .map_err(|e| {
            tracing::debug!(%peer, "opening a direct channel: {e:?}");
            NetworkError::NotConnected
        })
}

/// A request that failed after the channel opened. A status the peer's service sent is its
/// answer; one made from a transport error (a reset stream, a closed or trimmed connection:
/// tonic keeps that error as the status's source) is the connection's end, which no one is
/// blamed for, as before the channel was gRPC.
fn failure(status: tonic::Status) -> NetworkError {
    if std::error::Error::source(&status).is_some() {
        return NetworkError::ConnectionClosed;
    }
    match status.code() {
        Code::Unavailable | Code::Cancelled => NetworkError::ConnectionClosed,
        Code::DeadlineExceeded => NetworkError::TimedOut,
        _ => NetworkError::operation(status),
    }
}

#[cfg(test)]
mod tests {
    use super::failure;
    use crate::wire::NetworkError;
    use tonic::{Code, Status};

    #[test]
    fn a_transport_error_ends_the_connection_and_a_peers_status_is_its_answer() {
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let from_transport = Status::from_error(Box::new(reset));
        assert!(matches!(
            failure(from_transport),
            NetworkError::ConnectionClosed
        ));
        let refused = Status::new(Code::InvalidArgument, "not a validation message");
        assert!(matches!(failure(refused), NetworkError::Operation(_)));
        let gone = Status::new(Code::Unavailable, "shutting down");
        assert!(matches!(failure(gone), NetworkError::ConnectionClosed));
        let late = Status::new(Code::DeadlineExceeded, "timeout");
        assert!(matches!(failure(late), NetworkError::TimedOut));
    }
}
