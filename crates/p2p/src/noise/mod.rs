//! libp2p's Noise handshake (`/noise`: XX, X25519, ChaChaPoly, SHA-256) with qnode's
//! identities, Ed448 (the original's) as well as Ed25519. rust-libp2p's `libp2p-noise`
//! takes only its own key types, which have no Ed448, so this is qnode's own, on `snow`.
//!
//! Each side proves its identity by signing `"noise-libp2p-static-key:" ‖ its X25519
//! static key` with its host key and sending `NoiseHandshakePayload {identity_key,
//! identity_sig}` inside the handshake (the responder in the second message, the
//! initiator in the third). A payload that does not decode, a key of another type, or a
//! signature that does not verify ends the handshake. The remote's peer id is derived
//! from its key; the swarm compares it with the one a dial asked for.

mod codec;
mod stream;

pub use stream::NoiseStream;

use asynchronous_codec::Framed;
use codec::Codec;
use futures::future::BoxFuture;
use futures::{AsyncRead, AsyncWrite, FutureExt, SinkExt, StreamExt};
use libp2p::core::upgrade::{InboundConnectionUpgrade, OutboundConnectionUpgrade, UpgradeInfo};
use libp2p::PeerId;
use prost::Message;
use qnode_identity::{NodeKey, PublicKey};
use std::sync::Arc;

/// What the identity signature covers, before the static key.
pub const STATIC_KEY_DOMAIN: &str = "noise-libp2p-static-key:";
const PARAMS: &str = "Noise_XX_25519_ChaChaPoly_SHA256";

/// Why a handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum NoiseError {
    /// The connection failed or sent a malformed message.
    #[error("noise: {0}")]
    Io(#[from] std::io::Error),
    /// The Noise state machine refused (a bad message, a failed decryption).
    #[error("noise: {0}")]
    Noise(#[from] snow::Error),
    /// The connection closed during the handshake.
    #[error("noise: the connection closed during the handshake")]
    Closed,
    /// The remote's payload is not a valid identity proof.
    #[error("noise: the remote's identity: {0}")]
    Identity(String),
}

/// `NoiseHandshakePayload` of the libp2p Noise spec.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HandshakePayload {
    /// The sender's public key, libp2p-encoded.
    #[prost(bytes = "vec", tag = "1")]
    pub identity_key: Vec<u8>,
    /// Its signature over [`STATIC_KEY_DOMAIN`] ‖ the sender's static key.
    #[prost(bytes = "vec", tag = "2")]
    pub identity_sig: Vec<u8>,
    /// Early muxer negotiation and WebTransport hashes; qnode sends none.
    #[prost(message, optional, tag = "4")]
    pub extensions: Option<Extensions>,
}

/// `NoiseExtensions` of the libp2p Noise spec.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Extensions {
    /// WebTransport certificate hashes.
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub webtransport_certhashes: Vec<Vec<u8>>,
    /// Muxers offered for early negotiation (go-libp2p sends its list).
    #[prost(string, repeated, tag = "2")]
    pub stream_muxers: Vec<String>,
}

/// Checks a remote's handshake payload against the static key the handshake saw; returns
/// its identity.
pub fn verify_payload(payload: &[u8], remote_static: &[u8]) -> Result<PublicKey, NoiseError> {
    let payload = HandshakePayload::decode(payload)
        .map_err(|e| NoiseError::Identity(format!("the payload does not decode: {e}")))?;
    let key = PublicKey::try_decode_protobuf(&payload.identity_key)
        .map_err(|e| NoiseError::Identity(e.to_string()))?;
    let signed = [STATIC_KEY_DOMAIN.as_bytes(), remote_static].concat();
    if !key.verify(&signed, &payload.identity_sig) {
        return Err(NoiseError::Identity(
            "the signature over the static key does not verify".into(),
        ));
    }
    Ok(key)
}

/// The upgrade that secures a connection with the node's identity.
#[derive(Clone)]
pub struct NoiseConfig {
    key: Arc<NodeKey>,
}

impl NoiseConfig {
    /// Secures connections as `key`'s peer.
    pub fn new(key: Arc<NodeKey>) -> Self {
        NoiseConfig { key }
    }

    /// A fresh static key pair and the payload proving it is ours.
    fn prepare(&self) -> Result<(snow::Keypair, Vec<u8>), NoiseError> {
        let static_keys = snow::Builder::new(params()).generate_keypair()?;
        let signed = [STATIC_KEY_DOMAIN.as_bytes(), &static_keys.public].concat();
        let signature = self
            .key
            .sign(&signed)
            .map_err(|e| NoiseError::Identity(e.to_string()))?;
        let payload = HandshakePayload {
            identity_key: self.key.public().encode_protobuf(),
            identity_sig: signature,
            extensions: None,
        }
        .encode_to_vec();
        Ok((static_keys, payload))
    }

    async fn run<T>(
        self,
        socket: T,
        initiator: bool,
    ) -> Result<(PeerId, NoiseStream<T>), NoiseError>
    where
        T: AsyncRead + AsyncWrite + Unpin,
    {
        let (static_keys, payload) = self.prepare()?;
        let builder = snow::Builder::new(params()).local_private_key(&static_keys.private);
        let state = if initiator {
            builder.build_initiator()?
        } else {
            builder.build_responder()?
        };
        let mut io = Framed::new(socket, Codec::new(state));
        let remote = if initiator {
            io.send(&[]).await?;
            let remote = receive_identity(&mut io).await?;
            io.send(&payload).await?;
            remote
        } else {
            receive(&mut io).await?;
            io.send(&payload).await?;
            receive_identity(&mut io).await?
        };
        // Bytes the remote sent after its last handshake message (multistream-select's
        // first lines) may already be buffered: they stay for the transport to read.
        let asynchronous_codec::FramedParts {
            io: socket,
            codec,
            read_buffer,
            ..
        } = io.into_parts();
        let transport = codec.session.into_transport_mode()?;
        let mut secured = Framed::new(socket, Codec::new(transport)).into_parts();
        secured.read_buffer = read_buffer;
        Ok((
            remote.to_peer_id(),
            NoiseStream::new(Framed::from_parts(secured)),
        ))
    }
}

fn params() -> snow::params::NoiseParams {
    match PARAMS.parse() {
        Ok(params) => params,
        Err(e) => unreachable!("a fixed, valid Noise protocol name: {e}"),
    }
}

async fn receive<T: AsyncRead + AsyncWrite + Unpin>(
    io: &mut Framed<T, Codec<snow::HandshakeState>>,
) -> Result<bytes::Bytes, NoiseError> {
    match io.next().await {
        Some(message) => Ok(message?),
        None => Err(NoiseError::Closed),
    }
}

async fn receive_identity<T: AsyncRead + AsyncWrite + Unpin>(
    io: &mut Framed<T, Codec<snow::HandshakeState>>,
) -> Result<PublicKey, NoiseError> {
    let payload = receive(io).await?;
    let remote_static = io
        .codec()
        .session
        .get_remote_static()
        .ok_or_else(|| NoiseError::Identity("no static key in the handshake".into()))?
        .to_vec();
    verify_payload(&payload, &remote_static)
}

impl UpgradeInfo for NoiseConfig {
    type Info = &'static str;
    type InfoIter = std::iter::Once<Self::Info>;

    fn protocol_info(&self) -> Self::InfoIter {
        std::iter::once("/noise")
    }
}

impl<T> InboundConnectionUpgrade<T> for NoiseConfig
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Output = (PeerId, NoiseStream<T>);
    type Error = NoiseError;
    type Future = BoxFuture<'static, Result<Self::Output, NoiseError>>;

    fn upgrade_inbound(self, socket: T, _: Self::Info) -> Self::Future {
        self.run(socket, false).boxed()
    }
}

impl<T> OutboundConnectionUpgrade<T> for NoiseConfig
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Output = (PeerId, NoiseStream<T>);
    type Error = NoiseError;
    type Future = BoxFuture<'static, Result<Self::Output, NoiseError>>;

    fn upgrade_outbound(self, socket: T, _: Self::Info) -> Self::Future {
        self.run(socket, true).boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{AsyncReadExt, AsyncWriteExt};
    use qnode_identity::KeyType;
    use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

    type Pipe = Compat<tokio::io::DuplexStream>;

    fn pipe() -> (Pipe, Pipe) {
        let (a, b) = tokio::io::duplex(1 << 16);
        (a.compat(), b.compat())
    }

    fn config(kind: KeyType) -> (NoiseConfig, PeerId) {
        let key = NodeKey::generate(kind).expect("key");
        let id = key.peer_id();
        (NoiseConfig::new(Arc::new(key)), id)
    }

    #[tokio::test]
    async fn ed448_and_ed25519_peers_authenticate_each_other_and_talk() {
        for (dialer, listener) in [
            (KeyType::Ed448, KeyType::Ed25519),
            (KeyType::Ed25519, KeyType::Ed448),
            (KeyType::Ed448, KeyType::Ed448),
        ] {
            let (a_end, b_end) = pipe();
            let (a, a_id) = config(dialer);
            let (b, b_id) = config(listener);
            let (a_side, b_side) = tokio::join!(a.run(a_end, true), b.run(b_end, false));
            let (seen_by_a, mut a_stream) = a_side.expect("dialer");
            let (seen_by_b, mut b_stream) = b_side.expect("listener");
            assert_eq!(
                (seen_by_a, seen_by_b),
                (b_id, a_id),
                "{dialer} → {listener}"
            );
            // More than one Noise message's worth, both ways.
            let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
            let sent = big.clone();
            let writer = async move {
                a_stream.write_all(&sent).await.expect("write");
                a_stream.flush().await.expect("flush");
                let mut back = vec![0u8; 5];
                a_stream.read_exact(&mut back).await.expect("read back");
                back
            };
            let reader = async move {
                let mut got = vec![0u8; 200_000];
                b_stream.read_exact(&mut got).await.expect("read");
                b_stream.write_all(b"thanks").await.expect("write back");
                b_stream.flush().await.expect("flush back");
                got
            };
            let (back, got) = tokio::join!(writer, reader);
            assert_eq!(got, big);
            assert_eq!(back, b"thank");
        }
    }

    #[tokio::test]
    async fn garbage_instead_of_a_handshake_fails_cleanly() {
        let (mut junk_end, b_end) = pipe();
        let (b, _) = config(KeyType::Ed448);
        let junk = async move {
            junk_end
                .write_all(&[0x00, 0x05, 1, 2, 3, 4, 5])
                .await
                .expect("write");
            junk_end.write_all(&[0xff; 300]).await.expect("write");
            junk_end.close().await.expect("close");
        };
        let (_, refused) = tokio::join!(junk, b.run(b_end, false));
        assert!(refused.is_err());
    }

    #[test]
    fn a_payload_must_sign_the_static_key_it_came_with() {
        let key = NodeKey::generate(KeyType::Ed448).expect("key");
        let static_key = [7u8; 32];
        let signed = [STATIC_KEY_DOMAIN.as_bytes(), &static_key].concat();
        let payload = HandshakePayload {
            identity_key: key.public().encode_protobuf(),
            identity_sig: key.sign(&signed).expect("sign"),
            extensions: None,
        }
        .encode_to_vec();
        let accepted = verify_payload(&payload, &static_key).expect("valid");
        assert_eq!(accepted.to_peer_id(), key.peer_id());
        assert!(
            verify_payload(&payload, &[8u8; 32]).is_err(),
            "another static key"
        );
        let mut forged = payload.clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert!(
            verify_payload(&forged, &static_key).is_err(),
            "a flipped bit"
        );
    }

    proptest::proptest! {
        #[test]
        fn no_payload_bytes_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = verify_payload(&bytes, &[0u8; 32]);
        }
    }
}
