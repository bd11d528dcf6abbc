//! iden3 Poseidon over the BN254 scalar field, as go-iden3-crypto v0.0.15's `HashBytes`
//! (the function the original calls): 31-byte big-endian chunks, sponge frames of 16
//! inputs, the last chunk zero-padded on the right.
//!
//! The permutation (`permutation.rs`) runs on `ark-bn254`'s Montgomery field with
//! go-iden3-crypto's optimised constants, embedded as data (`t17.bin`, written by
//! `scripts/poseidon_constants.py`); `tests/poseidon_vectors.rs` proves it against the
//! original's outputs.

mod dot;
mod permutation;

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use permutation::{permute, INPUTS};
use qnode_memo::{recent, Memo};
use sha3::{Digest, Sha3_256};

/// Bytes per sponge input: 31, so every chunk is below the field's modulus.
const CHUNK: usize = 31;

/// Why a hash could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoseidonError {
    /// go-iden3-crypto returns no hash for empty input; neither do we.
    #[error("Poseidon HashBytes of empty input is undefined")]
    Empty,
}

/// `HashBytes(msg)` as a 32-byte big-endian field element.
pub fn hash_bytes(msg: &[u8]) -> Result<[u8; 32], PoseidonError> {
    if msg.is_empty() {
        return Err(PoseidonError::Empty);
    }
    let mut inputs = [Fr::from(0u64); INPUTS];
    let mut next = 0;
    let mut hash = Fr::from(0u64);
    let mut unhashed = false;
    for chunk in msg.chunks(CHUNK) {
        inputs[next] = chunk_element(chunk);
        unhashed = true;
        if next == INPUTS - 1 {
            // A full frame: its hash opens the next frame, as go-iden3-crypto chains them.
            hash = permute(&inputs, INPUTS);
            inputs = [Fr::from(0u64); INPUTS];
            inputs[0] = hash;
            next = 1;
            unhashed = false;
        } else {
            next += 1;
        }
    }
    if unhashed {
        hash = permute(&inputs, next);
    }
    let bytes = hash.into_bigint().to_bytes_be();
    let mut out = [0u8; 32];
    out[32 - bytes.len()..].copy_from_slice(&bytes);
    Ok(out)
}

/// A chunk as a field element: big-endian, a short (last) chunk padded with zeros on the
/// right to 31 bytes.
fn chunk_element(chunk: &[u8]) -> Fr {
    let mut padded = [0u8; CHUNK];
    padded[..chunk.len()].copy_from_slice(chunk);
    Fr::from_be_bytes_mod_order(&padded)
}

/// [`hash_bytes`], once per message in this process (keyed by its SHA3-256): every node
/// of a simulation hashes the same frames and envelopes. The plain function stays for the
/// benchmarks, which time it.
pub fn hash_bytes_shared(msg: &[u8]) -> Result<[u8; 32], PoseidonError> {
    static HASHED: Memo<[u8; 32], Result<[u8; 32], PoseidonError>> = Memo::new(|| recent(1024));
    HASHED.get_with(Sha3_256::digest(msg).into(), || hash_bytes(msg))
}

/// `HashBytes(msg)` as the integer's minimal big-endian bytes (Go's `big.Int.Bytes()`),
/// the form the pubsub envelope carries.
pub fn hash_bytes_minimal(msg: &[u8]) -> Result<Vec<u8>, PoseidonError> {
    hash_bytes(msg).map(|full| minimal(&full))
}

/// A hash without its leading zero bytes, as go-iden3-crypto's big-endian bytes.
pub fn minimal(full: &[u8; 32]) -> Vec<u8> {
    let first = full.iter().position(|&b| b != 0).unwrap_or(full.len());
    full[first..].to_vec()
}
