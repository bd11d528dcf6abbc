//! The direct channel as the original has it: gRPC `ValidationService` (HTTP/2 without TLS:
//! the libp2p connection is already secured) over one libp2p stream per channel, on
//! `/p2p/direct-channel/<base58 peer id of the server>validation` (go-libp2p-gostream in
//! the original's `p2p/blossomsub.go`). One channel carries one request here: the client
//! opens a stream, asks, and closes it.
//!
//! qnode's bounds stay: messages of at most [`crate::MAX_VALIDATION_BYTES`], every request
//! answered or failed within [`crate::REQUEST_TIMEOUT`], a channel closed after twice that,
//! and each peer's channels rate-limited as they open.

mod client;
mod server;

pub(crate) use client::call;
pub(crate) use server::serve;

use crate::wire::NetworkError;
use libp2p::{PeerId, StreamProtocol};
use std::time::Duration;

/// The protocol a node serves its direct channel on: named after the server's peer id.
pub(crate) fn protocol(server: &PeerId) -> Result<StreamProtocol, NetworkError> {
    StreamProtocol::try_from_owned(format!("/p2p/direct-channel/{server}validation"))
        .map_err(NetworkError::setup)
}

/// How long a served channel lives before its server closes it, whatever the client does.
const CHANNEL_LIFETIME: Duration = Duration::from_secs(2 * crate::REQUEST_TIMEOUT.as_secs());

/// The peer at the other end of a served channel, in each request's extensions.
#[derive(Debug, Clone, Copy)]
struct RemotePeer(PeerId);
