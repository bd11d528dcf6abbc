//! The data time proof chain: one proof per (peer, increment), in the original's value
//! layout, and per peer the latest increment with the running reward.

use crate::{Store, StoreError};
use redb::{ReadableTable, TableDefinition};

pub(crate) const PROOFS: TableDefinition<(&[u8], u32), &[u8]> =
    TableDefinition::new("data_time_proofs");
pub(crate) const LATEST: TableDefinition<&[u8], &[u8]> =
    TableDefinition::new("data_time_proof_latest");

/// Reward units per worker core per increment (the original's `pomwBasis`).
pub const REWARD_PER_CORE: u128 = 1_200_000;

/// One stored increment of the proof chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataTimeProof {
    /// The workers' difficulty at this increment.
    pub difficulty: u32,
    /// How many workers proved it.
    pub parallelism: u32,
    /// What was proved over (the challenge).
    pub input: Vec<u8>,
    /// The serialized output (index, opened proof, commitment, opening).
    pub output: Vec<u8>,
}

/// A peer's latest increment and running reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatestProof {
    /// The last stored increment.
    pub increment: u32,
    /// The sum of `REWARD_PER_CORE × parallelism` over all stored increments.
    pub reward: u128,
}

impl DataTimeProof {
    /// BE u32 difficulty ‖ BE u32 parallelism ‖ BE u64 len ‖ input ‖ BE u64 len ‖ output.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(24 + self.input.len() + self.output.len());
        v.extend_from_slice(&self.difficulty.to_be_bytes());
        v.extend_from_slice(&self.parallelism.to_be_bytes());
        v.extend_from_slice(&(self.input.len() as u64).to_be_bytes());
        v.extend_from_slice(&self.input);
        v.extend_from_slice(&(self.output.len() as u64).to_be_bytes());
        v.extend_from_slice(&self.output);
        v
    }

    /// Parses the stored layout ([`Self::encode`]); `None` when it is not one.
    pub fn decode(v: &[u8]) -> Option<DataTimeProof> {
        let (difficulty, v) = take_u32(v)?;
        let (parallelism, v) = take_u32(v)?;
        let (input, v) = take_sized(v)?;
        let (output, v) = take_sized(v)?;
        v.is_empty().then(|| DataTimeProof {
            difficulty,
            parallelism,
            input: input.to_vec(),
            output: output.to_vec(),
        })
    }
}

fn take_u32(v: &[u8]) -> Option<(u32, &[u8])> {
    let (head, rest) = v.split_first_chunk::<4>()?;
    Some((u32::from_be_bytes(*head), rest))
}

fn take_sized(v: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = v.split_first_chunk::<8>()?;
    let len = usize::try_from(u64::from_be_bytes(*len)).ok()?;
    (rest.len() >= len).then(|| rest.split_at(len))
}

impl LatestProof {
    /// BE u32 increment ‖ 32-byte BE reward, as the original stores it.
    pub(crate) fn encode(&self) -> [u8; 36] {
        let mut v = [0u8; 36];
        v[..4].copy_from_slice(&self.increment.to_be_bytes());
        v[20..].copy_from_slice(&self.reward.to_be_bytes());
        v
    }

    pub(crate) fn decode(v: &[u8]) -> Option<LatestProof> {
        let (increment, reward) = take_u32(v)?;
        let reward: &[u8; 32] = reward.try_into().ok()?;
        let (high, low) = reward.split_at(16);
        if high.iter().any(|&b| b != 0) {
            return None; // beyond any reward a u32 chain of increments can earn
        }
        Some(LatestProof {
            increment,
            reward: u128::from_be_bytes(low.try_into().ok()?),
        })
    }
}

impl Store {
    /// Stores `proof` as `peer`'s increment `increment`, which must be 0 for a new chain
    /// or exactly latest + 1, and adds its reward — one transaction.
    pub fn append_data_time_proof(
        &self,
        peer: &[u8],
        increment: u32,
        proof: &DataTimeProof,
    ) -> Result<LatestProof, StoreError> {
        self.guarded(|| {
            let txn = self.begin_write()?;
            let latest = {
                let mut latest_table = txn.open_table(LATEST).map_err(|e| self.err(e))?;
                let previous = match latest_table.get(peer).map_err(|e| self.err(e))? {
                    Some(v) => Some(self.decode_latest(v.value())?),
                    None => None,
                };
                let expected = previous.map_or(Some(0), |p| p.increment.checked_add(1));
                if Some(increment) != expected {
                    return Err(StoreError::OutOfOrder(format!(
                        "increment {increment} does not follow {}",
                        previous.map_or("an empty chain".into(), |p| p.increment.to_string())
                    )));
                }
                let latest = LatestProof {
                    increment,
                    reward: previous.map_or(0, |p| p.reward)
                        + REWARD_PER_CORE * u128::from(proof.parallelism),
                };
                let mut proofs = txn.open_table(PROOFS).map_err(|e| self.err(e))?;
                proofs
                    .insert((peer, increment), proof.encode().as_slice())
                    .map_err(|e| self.err(e))?;
                latest_table
                    .insert(peer, latest.encode().as_slice())
                    .map_err(|e| self.err(e))?;
                latest
            };
            txn.commit().map_err(|e| self.err(e))?;
            Ok(latest)
        })
    }

    /// `peer`'s latest increment and reward, if it has a chain.
    pub fn latest_data_time_proof(&self, peer: &[u8]) -> Result<Option<LatestProof>, StoreError> {
        self.guarded(|| {
            let Some(table) = self.read_table(LATEST)? else {
                return Ok(None);
            };
            let value = table.get(peer).map_err(|e| self.err(e))?;
            value.map(|v| self.decode_latest(v.value())).transpose()
        })
    }

    /// `peer`'s proof at `increment`.
    pub fn data_time_proof(
        &self,
        peer: &[u8],
        increment: u32,
    ) -> Result<Option<DataTimeProof>, StoreError> {
        self.guarded(|| {
            let Some(table) = self.read_table(PROOFS)? else {
                return Ok(None);
            };
            let value = table.get((peer, increment)).map_err(|e| self.err(e))?;
            value
                .map(|v| {
                    DataTimeProof::decode(v.value()).ok_or_else(|| {
                        StoreError::corrupt(&self.path, format!("data time proof {increment}"))
                    })
                })
                .transpose()
        })
    }

    pub(crate) fn decode_latest(&self, v: &[u8]) -> Result<LatestProof, StoreError> {
        LatestProof::decode(v)
            .ok_or_else(|| StoreError::corrupt(&self.path, "latest data time proof record"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_layout_is_the_originals() {
        let p = DataTimeProof {
            difficulty: 0x0102_0304,
            parallelism: 3,
            input: vec![0xaa],
            output: vec![0xbb, 0xcc],
        };
        let v = p.encode();
        assert_eq!(
            v,
            [
                1, 2, 3, 4, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa, 0, 0, 0, 0, 0, 0, 0, 2, 0xbb,
                0xcc
            ]
        );
        assert_eq!(DataTimeProof::decode(&v), Some(p));
        assert_eq!(DataTimeProof::decode(&v[..v.len() - 1]), None);
    }

    #[test]
    fn latest_is_increment_then_32_byte_reward() {
        let l = LatestProof {
            increment: 7,
            reward: 2_400_000,
        };
        let v = l.encode();
        assert_eq!(&v[..4], &[0, 0, 0, 7]);
        assert_eq!(&v[32..], &2_400_000u32.to_be_bytes());
        assert_eq!(LatestProof::decode(&v), Some(l));
    }
}
