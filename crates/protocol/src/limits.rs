//! Size limits for every message kind that arrives from outside, checked before decoding
//! so a peer cannot make us allocate or parse more than a message of that kind can hold.

use prost::Message;

/// What a decoder was asked to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A master clock frame: two 516-byte VDF outputs, a 32-byte selector, a filter.
    ClockFrame,
    /// A self-test report: metrics, a 520-byte proof and its challenge.
    SelfTestReport,
    /// A pubsub envelope around a frame or a report.
    Envelope,
    /// A batch of frames answering a sync request.
    ClockFramesResponse,
    /// A sync or frames request.
    ClockFramesRequest,
    /// The validation channel's payload: the 1 MiB bandwidth echo.
    ValidationMessage,
    /// A data worker's challenge-proof request or response.
    ChallengeProof,
}

impl Kind {
    /// The largest encoding accepted for this kind.
    pub const fn max_bytes(self) -> usize {
        match self {
            Kind::ClockFrame => 16 * 1024,
            Kind::SelfTestReport => 8 * 1024,
            Kind::Envelope => 64 * 1024,
            Kind::ClockFramesResponse => 1024 * 1024,
            Kind::ClockFramesRequest => 64 * 1024,
            Kind::ValidationMessage => 1024 * 1024 + 1024,
            Kind::ChallengeProof => 4 * 1024,
        }
    }
}

/// Why bytes from outside were not decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Longer than a message of this kind can be.
    #[error("{kind:?} of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// What was being decoded.
        kind: Kind,
        /// The input's length.
        len: usize,
        /// The limit for that kind.
        max: usize,
    },
    /// Not a valid protobuf encoding of the message.
    #[error("malformed {kind:?}: {reason}")]
    Malformed {
        /// What was being decoded.
        kind: Kind,
        /// prost's explanation.
        reason: String,
    },
}

/// Decodes `bytes` as `M` after checking the size limit of `kind`.
pub fn decode<M: Message + Default>(kind: Kind, bytes: &[u8]) -> Result<M, DecodeError> {
    let max = kind.max_bytes();
    if bytes.len() > max {
        return Err(DecodeError::TooLarge {
            kind,
            len: bytes.len(),
            max,
        });
    }
    M::decode(bytes).map_err(|e| DecodeError::Malformed {
        kind,
        reason: e.to_string(),
    })
}
