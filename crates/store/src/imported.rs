//! Proof chains carried over from an original node (`qnode init --from-original`): stored
//! whole in one transaction, and marked with their last increment. The original resumes
//! after a restart in a way that breaks its chain's links (docs/proof-loop.md), and its
//! own integrity check looks at each record alone; so a chain's imported part is checked
//! by the original's rules, what qnode adds after it by qnode's.

use crate::proofs::{LATEST, PROOFS};
use crate::{DataTimeProof, LatestProof, Store, StoreError, REWARD_PER_CORE};
use redb::{ReadableTable, TableDefinition};

/// Per peer, the last increment of its chain that came from an original node.
pub(crate) const IMPORTED: TableDefinition<&[u8], u32> =
    TableDefinition::new("data_time_proofs_imported");

impl Store {
    /// Stores `proofs` (increments 0, 1, …) as `peer`'s chain, carried over from an
    /// original node: every increment, the latest record with the summed reward, and the
    /// mark of how far the chain came from the original, in one transaction. `peer` must
    /// have no chain yet.
    pub fn import_original_chain(
        &self,
        peer: &[u8],
        proofs: &[DataTimeProof],
    ) -> Result<LatestProof, StoreError> {
        let last = u32::try_from(proofs.len().checked_sub(1).ok_or_else(|| {
            StoreError::OutOfOrder("an imported chain needs at least one increment".into())
        })?)
        .map_err(|_| StoreError::OutOfOrder("an imported chain of over 2^32 increments".into()))?;
        self.guarded(|| {
            let txn = self.begin_write()?;
            let latest = {
                let mut latest_table = txn.open_table(LATEST).map_err(|e| self.err(e))?;
                if latest_table.get(peer).map_err(|e| self.err(e))?.is_some() {
                    return Err(StoreError::OutOfOrder(
                        "the peer already has a chain here".into(),
                    ));
                }
                let mut table = txn.open_table(PROOFS).map_err(|e| self.err(e))?;
                let mut reward = 0u128;
                for (increment, proof) in (0..=last).zip(proofs) {
                    reward += REWARD_PER_CORE * u128::from(proof.parallelism);
                    table
                        .insert((peer, increment), proof.encode().as_slice())
                        .map_err(|e| self.err(e))?;
                }
                let latest = LatestProof {
                    increment: last,
                    reward,
                };
                latest_table
                    .insert(peer, latest.encode().as_slice())
                    .map_err(|e| self.err(e))?;
                let mut imported = txn.open_table(IMPORTED).map_err(|e| self.err(e))?;
                imported.insert(peer, last).map_err(|e| self.err(e))?;
                latest
            };
            txn.commit().map_err(|e| self.err(e))?;
            Ok(latest)
        })
    }

    /// The last increment of `peer`'s chain that came from an original node, if any.
    pub fn imported_through(&self, peer: &[u8]) -> Result<Option<u32>, StoreError> {
        self.guarded(|| {
            let Some(table) = self.read_table(IMPORTED)? else {
                return Ok(None);
            };
            let value = table.get(peer).map_err(|e| self.err(e))?;
            Ok(value.map(|v| v.value()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proof(parallelism: u32) -> DataTimeProof {
        DataTimeProof {
            difficulty: 200_000,
            parallelism,
            input: vec![1; 74],
            output: vec![2; 668],
        }
    }

    #[test]
    fn an_imported_chain_is_stored_whole_marked_and_continued() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open_in(dir.path()).expect("store");
        let peer = b"peer".as_slice();
        assert_eq!(store.imported_through(peer).expect("read"), None);
        let latest = store
            .import_original_chain(peer, &[proof(3), proof(3), proof(2)])
            .expect("imports");
        assert_eq!(latest.increment, 2);
        assert_eq!(latest.reward, REWARD_PER_CORE * 8);
        assert_eq!(store.imported_through(peer).expect("read"), Some(2));
        assert_eq!(
            store.data_time_proof(peer, 1).expect("read"),
            Some(proof(3))
        );
        let next = store
            .append_data_time_proof(peer, 3, &proof(3))
            .expect("qnode continues the chain");
        assert_eq!(next.reward, REWARD_PER_CORE * 11);
        assert!(
            store.import_original_chain(peer, &[proof(1)]).is_err(),
            "only into no chain"
        );
        assert!(store
            .check()
            .expect("checks")
            .into_result(store.path())
            .is_ok());
    }
}
