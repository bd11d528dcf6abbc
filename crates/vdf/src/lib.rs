//! The verifiable delay function of the Quilibrium master clock: Wesolowski's proof of
//! sequential squaring in the class group of an imaginary quadratic field with a 2048-bit
//! discriminant derived from the challenge.
//!
//! Outputs are byte-identical to the original node's (its fork of POA Networks' `vdf`
//! crate): `y || π`, two forms of 258 bytes each. Where the original is lax, qnode is
//! strict: any output that is not exactly 516 bytes of two canonical (reduced) forms is
//! rejected with a [`VdfError`], never a panic, and a difficulty of 0 is an error.
//!
//! Arithmetic is GMP through `rug`, with NUDUPL squaring, NUCOMP composition and a
//! Lehmer extended GCD of our own on limb vectors (partial for both, full for NUDUPL's
//! inverse); the proof is assembled from checkpoints kept while squaring. The discriminant's prime search throws out composites with a base-2 Fermat
//! test on OpenSSL before GMP's own test decides.

mod challenge;
mod discriminant;
mod fermat;
mod form;
mod group;
mod limbs;
mod proof;
pub mod shared;
mod sieve;
mod xgcd;

#[cfg(test)]
mod verify_tests;

pub use challenge::{
    challenge_difficulty, challenge_proof, challenge_seed, scaled_challenge_difficulty,
    verify_challenge_proof, MAX_CHALLENGE_DIFFICULTY,
};
pub use discriminant::{create_discriminant, discriminant_cached, DISCRIMINANT_BITS};
pub use form::{Form, FORM_BYTES};
pub use group::ClassGroup;

/// Length of a VDF output: `y || π`.
pub const OUTPUT_BYTES: usize = 2 * FORM_BYTES;

/// A VDF output: the result `y = x^(2^t)` followed by the proof `π`.
pub type Output = [u8; OUTPUT_BYTES];

/// Why an output was refused or a computation could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VdfError {
    /// Difficulty 0 has no meaning (the original takes log 0 there).
    #[error("difficulty must be at least 1")]
    ZeroDifficulty,
    /// The bytes have the wrong length.
    #[error("expected {expected} bytes, got {got}")]
    Length {
        /// What the format needs.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// `a ≤ 0`, or `(b² − d) / 4a` is not an integer.
    #[error("bytes do not encode a form of this discriminant")]
    NotAForm,
    /// A valid form, but not the reduced representative the encoding requires.
    #[error("form is not reduced (non-canonical encoding)")]
    NotReduced,
    /// Well-formed, but `π^B · x^r ≠ y`.
    #[error("proof does not verify")]
    Mismatch,
}

/// Computes `x^(2^difficulty)` and its proof for `challenge`.
pub fn solve(challenge: &[u8], difficulty: u32) -> Result<Output, VdfError> {
    solve_with_progress(challenge, difficulty, |_| {})
}

/// [`solve`], calling `progress(squarings_done)` now and then (about every 1/256 of the
/// work) so long runs can show progress.
pub fn solve_with_progress(
    challenge: &[u8],
    difficulty: u32,
    progress: impl FnMut(u32),
) -> Result<Output, VdfError> {
    solve_in(create_discriminant(challenge), difficulty, progress)
}

/// [`solve`] for a challenge whose proofs this process also verifies, as every node
/// proves and verifies each master frame: the discriminant is shared with [`verify`]'s
/// cache, so a node verifying a rival's proof of the frame it proved pays nothing more.
pub fn solve_shared(challenge: &[u8], difficulty: u32) -> Result<Output, VdfError> {
    solve_in(discriminant_cached(challenge), difficulty, |_| {})
}

fn solve_in(
    discriminant: rug::Integer,
    difficulty: u32,
    mut progress: impl FnMut(u32),
) -> Result<Output, VdfError> {
    if difficulty == 0 {
        return Err(VdfError::ZeroDifficulty);
    }
    let mut group = ClassGroup::new(discriminant);
    let x = group.generator();
    let k = proof::window_bits(difficulty);
    let report_every = (difficulty / 256).max(1);

    let mut checkpoints = Vec::with_capacity((difficulty / k) as usize + 1);
    let mut y = x.clone();
    for done in 0..difficulty {
        if done % k == 0 {
            checkpoints.push(y.clone());
        }
        if done % report_every == 0 {
            progress(done);
        }
        group.square(&mut y);
    }
    progress(difficulty);

    let (x_bytes, y_bytes) = (x.to_bytes(), y.to_bytes());
    let b = proof::hash_prime(&x_bytes, &y_bytes, difficulty);
    let pi = proof::prove(&mut group, &checkpoints, k, difficulty, &b);

    let mut out = [0u8; OUTPUT_BYTES];
    out[..FORM_BYTES].copy_from_slice(&y_bytes);
    pi.write_bytes(&mut out[FORM_BYTES..]);
    Ok(out)
}

/// Checks `output` for `challenge` and `difficulty`. Never panics, whatever the bytes.
pub fn verify(challenge: &[u8], difficulty: u32, output: &[u8]) -> Result<(), VdfError> {
    if difficulty == 0 {
        return Err(VdfError::ZeroDifficulty);
    }
    if output.len() != OUTPUT_BYTES {
        return Err(VdfError::Length {
            expected: OUTPUT_BYTES,
            got: output.len(),
        });
    }
    // A verification that must search for the discriminant checks the proof while GMP
    // confirms the prime it found (`create_discriminant_meanwhile`).
    let check = |discriminant: &rug::Integer| check_output(discriminant, difficulty, output);
    let (discriminant, checked) = discriminant::discriminant_cached_meanwhile(challenge, check);
    checked.unwrap_or_else(|| check(&discriminant))
}

fn check_output(
    discriminant: &rug::Integer,
    difficulty: u32,
    output: &[u8],
) -> Result<(), VdfError> {
    let mut group = ClassGroup::new(discriminant.clone());
    let y = group.decode(&output[..FORM_BYTES])?;
    let pi = group.decode(&output[FORM_BYTES..])?;
    let x = group.generator();
    if proof::check(&mut group, &x, &y, &pi, difficulty) {
        Ok(())
    } else {
        Err(VdfError::Mismatch)
    }
}
