//! The data worker's challenge proof (`CalculateChallengeProof`).

use crate::{shared, solve, Output, VdfError};
use sha3::{Digest, Sha3_256};

/// The difficulty at increment 0; each 4 increments lower it by one.
pub const MAX_CHALLENGE_DIFFICULTY: u32 = 200_000;

/// `200000 − increment/4`, never below 1.
///
/// The original computes this in `uint32` and wraps: 0 for increments 800000–800003 (which
/// it cannot prove) and about 4.29 billion from 800004 on. qnode saturates at 1 instead,
/// matching the original everywhere it is usable (every increment below 800000).
pub fn challenge_difficulty(increment: u32) -> u32 {
    MAX_CHALLENGE_DIFFICULTY
        .saturating_sub(increment / 4)
        .max(1)
}

/// The mainnet difficulty divided by `divisor` (at least 1): devnets prove the same chain
/// shape at a fraction of the cost. A divisor of 1 is the real rule.
pub fn scaled_challenge_difficulty(increment: u32, divisor: u32) -> u32 {
    (challenge_difficulty(increment) / divisor.max(1)).max(1)
}

/// `SHA3-256(BE u32 core || challenge)`: the VDF input for one worker core.
pub fn challenge_seed(challenge: &[u8], core: u32) -> [u8; 32] {
    Sha3_256::new()
        .chain_update(core.to_be_bytes())
        .chain_update(challenge)
        .finalize()
        .into()
}

/// The 516-byte VDF output a data worker returns for `(challenge, core, increment)`.
pub fn challenge_proof(challenge: &[u8], core: u32, increment: u32) -> Result<Output, VdfError> {
    solve(
        &challenge_seed(challenge, core),
        challenge_difficulty(increment),
    )
}

/// Checks a peer's challenge proof for `(challenge, core, increment)` at the network's
/// difficulty divisor (1 on a real network). Memoised ([`shared`]): every node of a
/// process checks the same report once between them.
pub fn verify_challenge_proof(
    challenge: &[u8],
    core: u32,
    increment: u32,
    divisor: u32,
    output: &[u8],
) -> Result<(), VdfError> {
    shared::verify(
        &challenge_seed(challenge, core),
        scaled_challenge_difficulty(increment, divisor),
        output,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difficulty_follows_the_original_then_saturates() {
        assert_eq!(challenge_difficulty(0), 200_000);
        assert_eq!(challenge_difficulty(3), 200_000);
        assert_eq!(challenge_difficulty(4), 199_999);
        assert_eq!(challenge_difficulty(799_996), 1);
        assert_eq!(challenge_difficulty(800_000), 1);
        assert_eq!(challenge_difficulty(u32::MAX), 1);
    }

    #[test]
    fn a_scaled_proof_verifies_for_its_core_and_increment_only() {
        let (challenge, divisor) = (b"peer||commitment", 20_000);
        let seed = challenge_seed(challenge, 3);
        let output = solve(&seed, scaled_challenge_difficulty(8, divisor)).unwrap();
        assert!(verify_challenge_proof(challenge, 3, 8, divisor, &output).is_ok());
        assert!(verify_challenge_proof(challenge, 2, 8, divisor, &output).is_err());
        assert!(verify_challenge_proof(b"other", 3, 8, divisor, &output).is_err());
        assert!(verify_challenge_proof(challenge, 3, 8, 1, &output).is_err());
    }
}
