//! iden3 Poseidon over the BN254 scalar field, as go-iden3-crypto v0.0.15's `HashBytes`
//! (the function the original calls): 31-byte big-endian chunks, sponge frames of 16
//! inputs, the last chunk zero-padded on the right.
//!
//! The permutation and its circom constants come from `bloock-poseidon-rs`, a port of
//! go-iden3-crypto; `tests/poseidon_vectors.rs` proves it against the original's outputs.

use bloock_poseidon_rs::POSEIDON;

/// Why a hash could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoseidonError {
    /// go-iden3-crypto returns no hash for empty input; neither do we.
    #[error("Poseidon HashBytes of empty input is undefined")]
    Empty,
    /// The permutation refused its input (cannot happen for HashBytes frames).
    #[error("Poseidon: {0}")]
    Permutation(String),
}

/// `HashBytes(msg)` as a 32-byte big-endian field element.
pub fn hash_bytes(msg: &[u8]) -> Result<[u8; 32], PoseidonError> {
    if msg.is_empty() {
        return Err(PoseidonError::Empty);
    }
    let hash = POSEIDON
        .hash_bytes(msg)
        .map_err(PoseidonError::Permutation)?;
    let be = hash.bytes_be();
    let mut out = [0u8; 32];
    // The field element is < 2^254, written in 32 bytes; left-pad defensively anyway.
    out[32 - be.len()..].copy_from_slice(&be);
    Ok(out)
}

/// `HashBytes(msg)` as the integer's minimal big-endian bytes (Go's `big.Int.Bytes()`),
/// the form the pubsub envelope carries.
pub fn hash_bytes_minimal(msg: &[u8]) -> Result<Vec<u8>, PoseidonError> {
    let full = hash_bytes(msg)?;
    let first = full.iter().position(|&b| b != 0).unwrap_or(full.len());
    Ok(full[first..].to_vec())
}
