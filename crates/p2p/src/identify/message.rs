//! The `Identify` message (libp2p's identify spec) on its stream: one message, prefixed by
//! its length as an unsigned varint, bounded.

use super::Info;
use asynchronous_codec::Framed;
use futures::{AsyncRead, AsyncWrite, SinkExt, StreamExt};
use libp2p::{Multiaddr, PeerId};
use prost::Message;
use qnode_identity::PublicKey;
use std::io;
use unsigned_varint::codec::UviBytes;

/// The largest identify message read (go-libp2p writes at most 8 KiB for its signed
/// record plus addresses; a peer that sends more is not telling us anything useful).
pub const MAX_INFO_BYTES: usize = 64 * 1024;

/// `Identify` of libp2p's identify spec.
#[derive(Clone, PartialEq, prost::Message)]
pub struct IdentifyMessage {
    /// The sender's libp2p-encoded public key.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub public_key: Option<Vec<u8>>,
    /// Its listen addresses, as multiaddr bytes.
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub listen_addrs: Vec<Vec<u8>>,
    /// The protocols it speaks.
    #[prost(string, repeated, tag = "3")]
    pub protocols: Vec<String>,
    /// The address it sees the receiver at.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub observed_addr: Option<Vec<u8>>,
    /// Its protocol version.
    #[prost(string, optional, tag = "5")]
    pub protocol_version: Option<String>,
    /// Its software.
    #[prost(string, optional, tag = "6")]
    pub agent_version: Option<String>,
    /// A signed peer record (carried by go-libp2p; not checked by qnode).
    #[prost(bytes = "vec", optional, tag = "8")]
    pub signed_peer_record: Option<Vec<u8>>,
}

/// The framing: one message prefixed by its length as an unsigned varint.
fn framed<S: AsyncRead + AsyncWrite>(stream: S) -> Framed<S, UviBytes<bytes::Bytes>> {
    let mut codec = UviBytes::default();
    codec.set_max_len(MAX_INFO_BYTES);
    Framed::new(stream, codec)
}

/// Writes `message` length-prefixed and closes the stream.
pub(crate) async fn write<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    message: &IdentifyMessage,
) -> io::Result<()> {
    let mut io = framed(stream);
    io.send(message.encode_to_vec().into()).await?;
    io.close().await
}

/// Reads one message of at most [`MAX_INFO_BYTES`].
pub(crate) async fn read<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
) -> io::Result<IdentifyMessage> {
    let bytes = framed(stream)
        .next()
        .await
        .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))??;
    IdentifyMessage::decode(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// The peer's info, if its key is the one its connection authenticated.
pub(crate) fn check(message: IdentifyMessage, peer: &PeerId) -> Result<Info, String> {
    let key_bytes = message.public_key.ok_or("no public key")?;
    let public_key = PublicKey::try_decode_protobuf(&key_bytes).map_err(|e| e.to_string())?;
    if public_key.to_peer_id() != *peer {
        return Err(format!(
            "its key is {}'s, not the connection's peer",
            public_key.to_peer_id()
        ));
    }
    Ok(Info {
        public_key,
        protocol_version: message.protocol_version.unwrap_or_default(),
        agent_version: message.agent_version.unwrap_or_default(),
        listen_addrs: message
            .listen_addrs
            .into_iter()
            .filter_map(|bytes| Multiaddr::try_from(bytes).ok())
            .collect(),
        protocols: message.protocols,
        observed_addr: message
            .observed_addr
            .and_then(|bytes| Multiaddr::try_from(bytes).ok()),
    })
}
