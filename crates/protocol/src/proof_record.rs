//! The proof chain's record, the one place that knows its layout. Each stored increment's
//! output is `BE u32 index ‖ opened proof ‖ commitment ‖ opening` (4 + 516 + 74 + 74 =
//! 668 bytes); a self-test report carries its first part, `BE u32 index ‖ proof`
//! (520 bytes). Parsing checks lengths only: the proof, commitment and opening are
//! verified by whoever reads them.

use qnode_kzg::G1_BYTES;
use qnode_vdf::OUTPUT_BYTES as PROOF_BYTES;

/// Why bytes are not a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} of {got} bytes, expected {expected}")]
pub struct RecordLength {
    /// What was parsed.
    pub what: &'static str,
    /// Its length.
    pub got: usize,
    /// The layout's length.
    pub expected: usize,
}

/// One worker's challenge proof and which worker made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedProof {
    /// The worker (core) index.
    pub index: u32,
    /// Its 516-byte challenge proof.
    pub proof: [u8; PROOF_BYTES],
}

impl IndexedProof {
    /// Bytes of the encoding.
    pub const BYTES: usize = 4 + PROOF_BYTES;

    /// `BE u32 index ‖ proof`.
    pub fn encode(&self) -> Vec<u8> {
        [&self.index.to_be_bytes()[..], &self.proof].concat()
    }

    /// Splits `BE u32 index ‖ proof`, which must be exactly [`Self::BYTES`] long.
    pub fn parse(bytes: &[u8]) -> Result<IndexedProof, RecordLength> {
        exact("an indexed proof", bytes, Self::BYTES)?;
        Ok(Self::split(bytes))
    }

    fn split(bytes: &[u8]) -> IndexedProof {
        let (index, proof) = bytes.split_at(4);
        IndexedProof {
            index: u32::from_be_bytes(array(index)),
            proof: array(&proof[..PROOF_BYTES]),
        }
    }
}

/// A stored increment's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofRecord {
    /// The proof opened for this increment and its worker index.
    pub opened: IndexedProof,
    /// The KZG commitment to this increment's proofs' digests, compressed G1.
    pub commitment: [u8; G1_BYTES],
    /// The KZG opening of the opened proof's digest, compressed G1.
    pub opening: [u8; G1_BYTES],
}

impl ProofRecord {
    /// Bytes of the encoding.
    pub const BYTES: usize = IndexedProof::BYTES + 2 * G1_BYTES;

    /// `BE u32 index ‖ proof ‖ commitment ‖ opening`.
    pub fn encode(&self) -> Vec<u8> {
        [&self.opened.encode()[..], &self.commitment, &self.opening].concat()
    }

    /// Splits a record, which must be exactly [`Self::BYTES`] long.
    pub fn parse(bytes: &[u8]) -> Result<ProofRecord, RecordLength> {
        exact("a proof record", bytes, Self::BYTES)?;
        let (opened, rest) = bytes.split_at(IndexedProof::BYTES);
        let (commitment, opening) = rest.split_at(G1_BYTES);
        Ok(ProofRecord {
            opened: IndexedProof::split(opened),
            commitment: array(commitment),
            opening: array(opening),
        })
    }
}

fn exact(what: &'static str, bytes: &[u8], expected: usize) -> Result<(), RecordLength> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(RecordLength {
            what,
            got: bytes.len(),
            expected,
        })
    }
}

/// A slice whose length the caller checked, as an array.
fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_layout_is_the_originals() {
        assert_eq!(IndexedProof::BYTES, 520);
        assert_eq!(ProofRecord::BYTES, 668);
        let record = ProofRecord {
            opened: IndexedProof {
                index: 0x0102_0304,
                proof: [5; PROOF_BYTES],
            },
            commitment: [6; G1_BYTES],
            opening: [7; G1_BYTES],
        };
        let bytes = record.encode();
        assert_eq!(&bytes[..4], &[1, 2, 3, 4]);
        assert_eq!(&bytes[4..520], &[5; 516][..]);
        assert_eq!(&bytes[520..594], &[6; 74][..]);
        assert_eq!(&bytes[594..], &[7; 74][..]);
        assert_eq!(&bytes[..520], &record.opened.encode()[..]);
    }

    proptest! {
        #[test]
        fn records_round_trip(bytes in proptest::collection::vec(any::<u8>(), ProofRecord::BYTES)) {
            let record = ProofRecord::parse(&bytes).unwrap();
            prop_assert_eq!(record.encode(), bytes.clone());
            let opened = IndexedProof::parse(&bytes[..IndexedProof::BYTES]).unwrap();
            prop_assert_eq!(opened, record.opened);
        }

        #[test]
        fn any_other_length_is_refused_with_both_lengths(len in 0usize..2048) {
            prop_assume!(len != ProofRecord::BYTES);
            let error = ProofRecord::parse(&vec![0; len]).unwrap_err();
            prop_assert_eq!(
                error.to_string(),
                format!("a proof record of {len} bytes, expected 668")
            );
            prop_assume!(len != IndexedProof::BYTES);
            prop_assert!(IndexedProof::parse(&vec![0; len]).is_err());
        }
    }
}
