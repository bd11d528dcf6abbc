//! The original's proof chain in its store (`node/store/data_proof.go`): per increment the
//! key `05 00 ‖ peer id ‖ BE u32 increment` holding `BE u32 difficulty ‖ BE u32
//! parallelism ‖ BE u64 len ‖ input ‖ BE u64 len ‖ output` (the layout qnode's store
//! keeps too), and per peer `05 01 ‖ peer id` holding `BE u32 latest increment ‖ 32-byte BE
//! reward`.

use crate::pebble::Snapshot;

const PROOF: [u8; 2] = [0x05, 0x00];
const LATEST: [u8; 2] = [0x05, 0x01];

/// One stored increment, in the stored layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProof {
    /// Its increment.
    pub increment: u32,
    /// The stored value.
    pub value: Vec<u8>,
}

/// A peer's chain as the original stored it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    /// Every increment, in order.
    pub proofs: Vec<StoredProof>,
    /// The latest index: increment and reward (32 bytes, BE).
    pub latest: Option<(u32, Vec<u8>)>,
}

/// `peer`'s chain in `snapshot` (`peer` as raw peer id bytes).
pub fn chain(snapshot: &Snapshot, peer: &[u8]) -> Chain {
    let prefix = [&PROOF[..], peer].concat();
    let proofs = snapshot
        .live
        .range(prefix.clone()..)
        .take_while(|(key, _)| key.starts_with(&prefix))
        .filter_map(|(key, value)| {
            let increment: [u8; 4] = key[prefix.len()..].try_into().ok()?;
            Some(StoredProof {
                increment: u32::from_be_bytes(increment),
                value: value.clone(),
            })
        })
        .collect();
    let latest = snapshot
        .live
        .get(&[&LATEST[..], peer].concat())
        .and_then(|value| {
            let increment: [u8; 4] = value.get(..4)?.try_into().ok()?;
            Some((u32::from_be_bytes(increment), value[4..].to_vec()))
        });
    Chain { proofs, latest }
}
