//! Proofs and verdicts memoised across the process (`qnode-memo`): every node of a
//! simulation proves each master frame from the same parent and verifies the same frames
//! and reports.
//!
//! The plain [`crate::solve`] and [`crate::verify`] stay unmemoised: the benchmarks time
//! them.

use crate::{Output, VdfError, OUTPUT_BYTES};
use qnode_memo::{recent, Memo};

/// Answers kept: a few minutes of a large network's frames and reports.
const CAPACITY: u64 = 1024;

/// [`crate::solve_shared`], once per `(challenge, difficulty)` in this process.
pub fn solve(challenge: &[u8], difficulty: u32) -> Result<Output, VdfError> {
    static SOLVED: Memo<Vec<u8>, Result<Output, VdfError>> = Memo::new(|| recent(CAPACITY));
    let key = [&difficulty.to_be_bytes()[..], challenge].concat();
    SOLVED.get_with(key, || crate::solve_shared(challenge, difficulty))
}

/// [`crate::verify`], once per `(challenge, difficulty, output)` in this process.
pub fn verify(challenge: &[u8], difficulty: u32, output: &[u8]) -> Result<(), VdfError> {
    static VERIFIED: Memo<Vec<u8>, Result<(), VdfError>> = Memo::new(|| recent(CAPACITY));
    if output.len() != OUTPUT_BYTES {
        // Refused at once, and never a key of arbitrary length.
        return crate::verify(challenge, difficulty, output);
    }
    let key = [&difficulty.to_be_bytes()[..], output, challenge].concat();
    VERIFIED.get_with(key, || crate::verify(challenge, difficulty, output))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memoised_answers_are_the_plain_ones() {
        let challenge = b"qnode shared memo";
        let output = solve(challenge, 40).unwrap();
        assert_eq!(output, crate::solve(challenge, 40).unwrap());
        assert_eq!(solve(challenge, 40).unwrap(), output);
        assert_eq!(verify(challenge, 40, &output), Ok(()));
        assert_eq!(verify(challenge, 40, &output), Ok(()));
        let mut damaged = output;
        damaged[OUTPUT_BYTES - 1] ^= 1;
        let plain = crate::verify(challenge, 40, &damaged);
        assert!(plain.is_err());
        assert_eq!(verify(challenge, 40, &damaged), plain);
        // The difficulty is part of the key.
        assert!(verify(challenge, 41, &output).is_err());
        assert_eq!(
            verify(challenge, 40, &output[1..]),
            crate::verify(challenge, 40, &output[1..])
        );
    }
}
