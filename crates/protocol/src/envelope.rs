//! The pubsub envelope: `Message { hash, address, payload }` where `payload` is a
//! marshalled `google.protobuf.Any` whose type URL uses the original's
//! `types.quilibrium.com` prefix, and `hash` is Poseidon `HashBytes(payload)` as minimal
//! big-endian bytes.

use crate::limits::{self, DecodeError, Kind};
use crate::pb::{application, clock::ClockFrame, node::SelfTestReport};
use crate::poseidon::{self, hash_bytes, hash_bytes_minimal, PoseidonError};
use prost::Message;

/// `Any` type URL of a clock frame (the original writes `types.quilibrium.com` where
/// protobuf writes `type.googleapis.com`).
pub const CLOCK_FRAME_TYPE: &str = "types.quilibrium.com/quilibrium.node.clock.pb.ClockFrame";
/// `Any` type URL of a self-test report.
pub const SELF_TEST_REPORT_TYPE: &str =
    "types.quilibrium.com/quilibrium.node.node.pb.SelfTestReport";

/// What the master clock gossips.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A new master clock frame.
    ClockFrame(ClockFrame),
    /// A peer's self-test report.
    SelfTestReport(SelfTestReport),
}

/// Why an envelope was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The envelope, its `Any` or the inner message failed to decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The `Any` names a type the master clock does not handle.
    #[error("unexpected payload type {0:?}")]
    UnknownType(String),
    /// `hash` is not Poseidon of the payload.
    #[error("envelope hash does not match its payload")]
    HashMismatch,
    /// The payload is empty, so it has no Poseidon hash.
    #[error(transparent)]
    Hash(#[from] PoseidonError),
}

/// Wraps `payload` for publishing on `filter`'s topic.
pub fn seal(filter: &[u8], payload: &Payload) -> Result<Vec<u8>, PoseidonError> {
    let any = match payload {
        Payload::ClockFrame(f) => prost_types::Any {
            type_url: CLOCK_FRAME_TYPE.into(),
            value: f.encode_to_vec(),
        },
        Payload::SelfTestReport(r) => prost_types::Any {
            type_url: SELF_TEST_REPORT_TYPE.into(),
            value: r.encode_to_vec(),
        },
    };
    let payload = any.encode_to_vec();
    let message = application::Message {
        hash: hash_bytes_minimal(&payload)?,
        address: filter.to_vec(),
        payload,
    };
    Ok(message.encode_to_vec())
}

/// Decodes and checks an envelope from the network: size limits, hash, known type.
/// Returns the publisher's address (filter) and the payload.
pub fn open(bytes: &[u8]) -> Result<(Vec<u8>, Payload), EnvelopeError> {
    open_with(bytes, hash_bytes)
}

/// [`open`] with the payload's hash memoised across the process
/// ([`poseidon::hash_bytes_shared`]): every node of a simulation opens the same gossip.
pub fn open_shared(bytes: &[u8]) -> Result<(Vec<u8>, Payload), EnvelopeError> {
    open_with(bytes, poseidon::hash_bytes_shared)
}

fn open_with(
    bytes: &[u8],
    hash: fn(&[u8]) -> Result<[u8; 32], PoseidonError>,
) -> Result<(Vec<u8>, Payload), EnvelopeError> {
    let message: application::Message = limits::decode(Kind::Envelope, bytes)?;
    if poseidon::minimal(&hash(&message.payload)?) != message.hash {
        return Err(EnvelopeError::HashMismatch);
    }
    let any: prost_types::Any = limits::decode(Kind::Envelope, &message.payload)?;
    let payload = match any.type_url.as_str() {
        CLOCK_FRAME_TYPE => Payload::ClockFrame(limits::decode(Kind::ClockFrame, &any.value)?),
        SELF_TEST_REPORT_TYPE => {
            Payload::SelfTestReport(limits::decode(Kind::SelfTestReport, &any.value)?)
        }
        _ => return Err(EnvelopeError::UnknownType(any.type_url)),
    };
    Ok((message.address, payload))
}
