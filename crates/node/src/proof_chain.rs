//! Re-checking a stored proof chain (`qnode proofs --verify`): every record's VDF output,
//! KZG opening, challenge chaining and opened index.

use crate::proof_loop::{digest_value, opened_index, poly_size, OUTPUT_BYTES};
use qnode_kzg::{g1_from_bytes, Opening, Setup, G1_BYTES};
use qnode_store::{DataTimeProof, Store, StoreError};

/// One record's fields, split out of its output.
pub struct Record {
    /// The increment.
    pub increment: u32,
    /// The stored record.
    pub proof: DataTimeProof,
}

impl Record {
    /// The opened worker index.
    pub fn index(&self) -> Option<u32> {
        let b = self.proof.output.get(..4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The commitment C(increment).
    pub fn commitment(&self) -> Option<&[u8]> {
        let start = 4 + qnode_vdf::OUTPUT_BYTES;
        self.proof.output.get(start..start + G1_BYTES)
    }
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

/// Checks record `i` of `chain`; `Err` says what is wrong with it.
pub fn check(
    chain: &[Record],
    i: usize,
    peer: &[u8],
    genesis_output: &[u8],
    setup: &Setup,
) -> Result<(), String> {
    let r = &chain[i];
    let out = &r.proof.output;
    if out.len() != OUTPUT_BYTES {
        return Err(format!(
            "output is {} bytes, expected {OUTPUT_BYTES}",
            out.len()
        ));
    }
    let parallelism = r.proof.parallelism as usize;
    let size = poly_size(parallelism).map_err(|e| e.to_string())?;
    let index = r.index().ok_or("no index")? as usize;
    if index >= parallelism {
        return Err(format!("index {index} ≥ parallelism {parallelism}"));
    }
    let expected_base = match i {
        0 => genesis_output,
        _ => chain[i - 1]
            .commitment()
            .ok_or("previous record has no commitment")?,
    };
    if r.proof.input != expected_base {
        return Err("input is not the previous commitment".into());
    }
    let opened = &out[4..4 + qnode_vdf::OUTPUT_BYTES];
    let challenge = [peer, &r.proof.input].concat();
    let seed = qnode_vdf::challenge_seed(&challenge, index as u32);
    qnode_vdf::verify(&seed, r.proof.difficulty, opened)
        .map_err(|e| format!("worker {index}'s VDF output: {e}"))?;
    let commitment = g1_from_bytes(r.commitment().ok_or("no commitment")?)
        .map_err(|e| format!("commitment: {e}"))?;
    let proof = g1_from_bytes(&out[4 + qnode_vdf::OUTPUT_BYTES + G1_BYTES..])
        .map_err(|e| format!("opening: {e}"))?;
    let opening = Opening {
        value: digest_value(opened),
        proof,
    };
    if !setup
        .verify(size, &commitment, index, &opening)
        .map_err(|e| e.to_string())?
    {
        return Err("KZG opening does not verify".into());
    }
    if let Some(next) = chain.get(i + 1) {
        if next.proof.parallelism == r.proof.parallelism {
            let next_commitment = next.commitment().ok_or("next record has no commitment")?;
            if opened_index(next_commitment, parallelism) != index {
                return Err("opened index is not derived from the next commitment".into());
            }
        }
    }
    Ok(())
}
