//! Master clock frames: genesis, proving the next frame, the parent selector, and
//! validation — the original's `WesolowskiFrameProver` rules.
//!
//! A frame's VDF challenge is `SHA3-256(filter ‖ BE u64 number ‖ BE u32 difficulty ‖
//! body)`, where the body is the parent's output (or, for genesis, the seed). Frames chain
//! through `parent_selector = Poseidon(parent.output)`.

use crate::pb::clock::ClockFrame;
use crate::poseidon::{hash_bytes_shared, PoseidonError};
use qnode_vdf::{VdfError, OUTPUT_BYTES};
use sha3::{Digest, Sha3_256};

/// The master clock's default difficulty.
pub const DEFAULT_DIFFICULTY: u32 = 100_000;
/// The master clock's default filter: 32 bytes of 0xff.
pub const DEFAULT_FILTER: [u8; 32] = [0xff; 32];
/// Bytes of a parent selector.
pub const SELECTOR_BYTES: usize = 32;
/// How far past the head a frame may be and still be taken (the original's validator).
pub const MAX_FRAMES_AHEAD: u64 = 128;

/// Why a frame was refused or could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The VDF could not be computed, or its output does not verify.
    #[error("VDF: {0}")]
    Vdf(#[from] VdfError),
    /// The parent selector could not be hashed (empty output).
    #[error(transparent)]
    Poseidon(#[from] PoseidonError),
    /// `input` is not a 516-byte VDF output.
    #[error("input is {0} bytes, expected 516")]
    InputLength(usize),
    /// `output` is not a 516-byte VDF output.
    #[error("output is {0} bytes, expected 516")]
    OutputLength(usize),
    /// Master frames carry no aggregate proofs.
    #[error("master frames carry no aggregate proofs")]
    AggregateProofs,
    /// Master frames carry no signature.
    #[error("master frames carry no signature")]
    Signature,
    /// `parent_selector` is not Poseidon of `input`.
    #[error("parent selector does not match the input")]
    ParentSelector,
    /// The frame belongs to another filter.
    #[error("frame is for another filter")]
    WrongFilter,
    /// Frame 0 is created locally from the seed, never received.
    #[error("genesis frames are not accepted from outside")]
    Genesis,
    /// Not after the head.
    #[error("frame {number} is not after the head {head}")]
    Stale {
        /// The frame's number.
        number: u64,
        /// Our head's number.
        head: u64,
    },
    /// Too far after the head to be useful or safe to keep.
    #[error("frame {number} is more than {MAX_FRAMES_AHEAD} frames after the head {head}")]
    TooFarAhead {
        /// The frame's number.
        number: u64,
        /// Our head's number.
        head: u64,
    },
}

/// The seed with the network byte in front for any network but mainnet (0), as the
/// original's `--network` flag does.
pub fn network_seed(seed: &[u8], network: u8) -> Vec<u8> {
    if network == 0 {
        seed.to_vec()
    } else {
        [&[network][..], seed].concat()
    }
}

fn challenge(filter: &[u8], number: u64, difficulty: u32, body: &[u8]) -> [u8; 32] {
    Sha3_256::new()
        .chain_update(filter)
        .chain_update(number.to_be_bytes())
        .chain_update(difficulty.to_be_bytes())
        .chain_update(body)
        .finalize()
        .into()
}

/// Frame 0: `input = VDF(SHA3-256(seed))`, `output` = the VDF of the genesis preimage
/// (whose body is 516 zero bytes when the seed is the single byte 0x00), zero selector.
pub fn genesis(filter: &[u8], seed: &[u8], difficulty: u32) -> Result<ClockFrame, FrameError> {
    let input = qnode_vdf::solve(&Sha3_256::digest(seed), difficulty)?;
    let zero_body = [0u8; OUTPUT_BYTES];
    let body = if seed == [0] { &zero_body[..] } else { seed };
    let output = qnode_vdf::solve(&challenge(filter, 0, difficulty, body), difficulty)?;
    Ok(ClockFrame {
        filter: filter.to_vec(),
        frame_number: 0,
        timestamp: 0,
        difficulty,
        parent_selector: vec![0; SELECTOR_BYTES],
        input: input.to_vec(),
        output: output.to_vec(),
        aggregate_proofs: Vec::new(),
        public_key_signature: None,
    })
}

/// `Poseidon(frame.output)` as 32 big-endian bytes: the next frame's parent selector.
pub fn selector(frame: &ClockFrame) -> Result<[u8; SELECTOR_BYTES], FrameError> {
    if frame.output.len() != OUTPUT_BYTES {
        return Err(FrameError::OutputLength(frame.output.len()));
    }
    Ok(hash_bytes_shared(&frame.output)?)
}

/// Proves the frame after `parent`.
pub fn prove_next(
    parent: &ClockFrame,
    timestamp: i64,
    difficulty: u32,
) -> Result<ClockFrame, FrameError> {
    let number = parent.frame_number + 1;
    let output = qnode_vdf::shared::solve(
        &challenge(&parent.filter, number, difficulty, &parent.output),
        difficulty,
    )?;
    Ok(ClockFrame {
        filter: parent.filter.clone(),
        frame_number: number,
        timestamp,
        difficulty,
        parent_selector: selector(parent)?.to_vec(),
        input: parent.output.clone(),
        output: output.to_vec(),
        aggregate_proofs: Vec::new(),
        public_key_signature: None,
    })
}

/// Whether the frame comes after `head`, and not too far after it: a frame that does not
/// is of no use now, whatever else is wrong with it.
pub fn check_position(frame: &ClockFrame, head: u64) -> Result<(), FrameError> {
    if frame.frame_number <= head {
        return Err(FrameError::Stale {
            number: frame.frame_number,
            head,
        });
    }
    if frame.frame_number - head > MAX_FRAMES_AHEAD {
        return Err(FrameError::TooFarAhead {
            number: frame.frame_number,
            head,
        });
    }
    Ok(())
}

/// Everything checkable without the VDF: shape, filter, and position after `head`.
/// Cheap, so it runs first on anything a peer sends.
pub fn check_shape(frame: &ClockFrame, filter: &[u8], head: u64) -> Result<(), FrameError> {
    if frame.filter != filter {
        return Err(FrameError::WrongFilter);
    }
    if frame.frame_number == 0 {
        return Err(FrameError::Genesis);
    }
    check_position(frame, head)?;
    if !frame.aggregate_proofs.is_empty() {
        return Err(FrameError::AggregateProofs);
    }
    if frame.public_key_signature.is_some() {
        return Err(FrameError::Signature);
    }
    if frame.input.len() != OUTPUT_BYTES {
        return Err(FrameError::InputLength(frame.input.len()));
    }
    if frame.output.len() != OUTPUT_BYTES {
        return Err(FrameError::OutputLength(frame.output.len()));
    }
    Ok(())
}

/// Full validation of a received frame: [`check_shape`], the parent selector, then the VDF.
pub fn validate(frame: &ClockFrame, filter: &[u8], head: u64) -> Result<(), FrameError> {
    check_shape(frame, filter, head)?;
    if hash_bytes_shared(&frame.input)?[..] != frame.parent_selector[..] {
        return Err(FrameError::ParentSelector);
    }
    let challenge = challenge(
        &frame.filter,
        frame.frame_number,
        frame.difficulty,
        &frame.input,
    );
    qnode_vdf::shared::verify(&challenge, frame.difficulty, &frame.output)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> Vec<ClockFrame> {
        let g = genesis(&DEFAULT_FILTER, b"unit", 5).unwrap();
        let f1 = prove_next(&g, 1, 5).unwrap();
        let f2 = prove_next(&f1, 2, 5).unwrap();
        vec![g, f1, f2]
    }

    #[test]
    fn proved_frames_validate_and_chain() {
        let c = chain();
        assert_eq!(validate(&c[1], &DEFAULT_FILTER, 0), Ok(()));
        assert_eq!(validate(&c[2], &DEFAULT_FILTER, 0), Ok(()));
        assert_eq!(c[2].input, c[1].output);
        assert_eq!(c[2].parent_selector, selector(&c[1]).unwrap().to_vec());
    }

    #[test]
    fn each_rule_refuses_its_case() {
        let c = chain();
        let f = &c[2];
        let mut bad = f.clone();
        bad.filter = vec![0; 32];
        assert_eq!(
            validate(&bad, &DEFAULT_FILTER, 0),
            Err(FrameError::WrongFilter)
        );
        assert_eq!(
            validate(&c[0], &DEFAULT_FILTER, 0),
            Err(FrameError::Genesis)
        );
        assert_eq!(
            validate(f, &DEFAULT_FILTER, 2),
            Err(FrameError::Stale { number: 2, head: 2 })
        );
        let mut far = f.clone();
        far.frame_number = 200;
        assert_eq!(
            validate(&far, &DEFAULT_FILTER, 1),
            Err(FrameError::TooFarAhead {
                number: 200,
                head: 1
            })
        );
        let mut short = f.clone();
        short.output.pop();
        assert_eq!(
            validate(&short, &DEFAULT_FILTER, 0),
            Err(FrameError::OutputLength(515))
        );
        let mut sel = f.clone();
        sel.parent_selector[0] ^= 1;
        assert_eq!(
            validate(&sel, &DEFAULT_FILTER, 0),
            Err(FrameError::ParentSelector)
        );
        let mut vdf = f.clone();
        vdf.difficulty += 1;
        assert!(matches!(
            validate(&vdf, &DEFAULT_FILTER, 0),
            Err(FrameError::Vdf(_))
        ));
        let mut number = f.clone();
        number.frame_number = 3;
        assert!(matches!(
            validate(&number, &DEFAULT_FILTER, 0),
            Err(FrameError::Vdf(_))
        ));
        let mut proofs = f.clone();
        proofs.aggregate_proofs.push(Default::default());
        assert_eq!(
            validate(&proofs, &DEFAULT_FILTER, 0),
            Err(FrameError::AggregateProofs)
        );
    }

    #[test]
    fn network_byte_prefixes_the_seed_off_mainnet() {
        assert_eq!(network_seed(b"ab", 0), b"ab");
        assert_eq!(network_seed(b"ab", 1), b"\x01ab");
    }
}
