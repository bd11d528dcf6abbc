//! Re-checking a stored proof chain (`qnode proofs --verify`): every record's VDF output,
//! KZG opening, challenge chaining and opened index. Records carried over from an original
//! node (`qnode init --from-original`) are checked by the original's own rules instead:
//! each record alone (its VDF output over its own input, its opening), because the
//! original's resume after a restart breaks its chain's links (docs/proof-loop.md).

use crate::proof_loop::{digest_value, opened_index, poly_size, ProofLoopError};
use qnode_kzg::{g1_from_bytes, KzgError, Opening, Setup};
use qnode_protocol::proof_record::{ProofRecord, RecordLength};
use qnode_store::{DataTimeProof, Store, StoreError};
use qnode_vdf::VdfError;

/// One stored increment.
pub struct Record {
    /// The increment.
    pub increment: u32,
    /// The stored record.
    pub proof: DataTimeProof,
}

impl Record {
    /// The record's output split into its fields.
    pub fn parsed(&self) -> Result<ProofRecord, RecordLength> {
        ProofRecord::parse(&self.proof.output)
    }
}

/// What is wrong with a stored increment.
#[derive(Debug, thiserror::Error)]
pub enum ChainFault {
    /// Its output does not have the record's layout.
    #[error(transparent)]
    Layout(#[from] RecordLength),
    /// Its parallelism has no KZG domain.
    #[error(transparent)]
    Parallelism(#[from] ProofLoopError),
    /// The opened index is not one of its workers.
    #[error("index {index} ≥ parallelism {parallelism}")]
    Index {
        /// The stored index.
        index: u32,
        /// The stored parallelism.
        parallelism: u32,
    },
    /// The previous record, whose commitment is this one's input, is malformed.
    #[error("previous record: {0}")]
    Previous(#[source] RecordLength),
    /// Its input is not the previous commitment (or the genesis output).
    #[error("input is not the previous commitment")]
    Input,
    /// The opened worker's VDF output does not verify.
    #[error("worker {index}'s VDF output: {source}")]
    Vdf {
        /// The worker.
        index: u32,
        /// Why.
        source: VdfError,
    },
    /// The commitment is not a G1 point.
    #[error("commitment: {0}")]
    Commitment(#[source] KzgError),
    /// The opening is not a G1 point, or cannot be checked at this size.
    #[error("opening: {0}")]
    Opening(#[source] KzgError),
    /// The opening is a point, but not of the opened digest against the commitment.
    #[error("KZG opening does not verify")]
    OpeningMismatch,
    /// The next record, whose commitment picks this record's index, is malformed.
    #[error("next record: {0}")]
    Next(#[source] RecordLength),
    /// The index is not the one the next commitment picks.
    #[error("opened index is not derived from the next commitment")]
    OpenedIndex,
}

/// Whether record `i`'s input is the previous record's commitment (the genesis output for
/// the first).
fn links_to_previous(
    chain: &[Record],
    i: usize,
    genesis_output: &[u8],
) -> Result<bool, ChainFault> {
    let input = &chain[i].proof.input;
    match i {
        0 => Ok(input == genesis_output),
        _ => {
            let previous = chain[i - 1].parsed().map_err(ChainFault::Previous)?;
            Ok(input[..] == previous.commitment[..])
        }
    }
}

/// The records carried over from an original node whose input is not the previous
/// commitment: where the original restarted (its resume breaks the link).
pub fn original_seams(chain: &[Record], genesis_output: &[u8], imported_through: u32) -> Vec<u32> {
    (0..chain.len())
        .filter(|&i| chain[i].increment <= imported_through)
        .filter(|&i| !links_to_previous(chain, i, genesis_output).unwrap_or(false))
        .map(|i| chain[i].increment)
        .collect()
}

/// Every stored record of `peer`, in order.
pub fn records(store: &Store, peer: &[u8]) -> Result<Vec<Record>, StoreError> {
    let Some(latest) = store.latest_data_time_proof(peer)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(latest.increment as usize + 1);
    for increment in 0..=latest.increment {
        match store.data_time_proof(peer, increment)? {
            Some(proof) => out.push(Record { increment, proof }),
            None => {
                return Err(StoreError::Corrupt {
                    path: store.path().to_path_buf(),
                    cause: format!("proof chain has no increment {increment}"),
                })
            }
        }
    }
    Ok(out)
}

/// Checks record `i` of `chain`; records up to `imported_through` came from an original
/// node and are checked alone.
pub fn check(
    chain: &[Record],
    i: usize,
    peer: &[u8],
    genesis_output: &[u8],
    setup: &Setup,
    imported_through: Option<u32>,
) -> Result<(), ChainFault> {
    let r = &chain[i];
    let record = r.parsed()?;
    let parallelism = r.proof.parallelism;
    let size = poly_size(parallelism as usize)?;
    let index = record.opened.index;
    if index >= parallelism {
        return Err(ChainFault::Index { index, parallelism });
    }
    let original = imported_through.is_some_and(|last| r.increment <= last);
    if !original && !links_to_previous(chain, i, genesis_output)? {
        return Err(ChainFault::Input);
    }
    let opened = &record.opened.proof;
    let challenge = [peer, &r.proof.input].concat();
    let seed = qnode_vdf::challenge_seed(&challenge, index);
    qnode_vdf::verify(&seed, r.proof.difficulty, opened)
        .map_err(|source| ChainFault::Vdf { index, source })?;
    let commitment = g1_from_bytes(&record.commitment).map_err(ChainFault::Commitment)?;
    let opening = Opening {
        value: digest_value(opened),
        proof: g1_from_bytes(&record.opening).map_err(ChainFault::Opening)?,
    };
    let verified = setup
        .verify(size, &commitment, index as usize, &opening)
        .map_err(ChainFault::Opening)?;
    if !verified {
        return Err(ChainFault::OpeningMismatch);
    }
    if let Some(next) = chain.get(i + 1).filter(|_| !original) {
        if next.proof.parallelism == parallelism {
            let next = next.parsed().map_err(ChainFault::Next)?;
            if opened_index(&next.commitment, parallelism as usize) != index as usize {
                return Err(ChainFault::OpenedIndex);
            }
        }
    }
    Ok(())
}
