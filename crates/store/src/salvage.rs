//! What can still be read from a store the checks refuse. The integrity check refuses a
//! whole file for one damaged page; here redb's copy is read without it, table by table
//! in key order, each inside the panic guard, stopping a table at its first entry that
//! cannot be read. Nothing here judges a record: the caller keeps what verifies.

use crate::frames::FRAMES;
use crate::imported::IMPORTED;
use crate::proofs::PROOFS;
use crate::{existing_table, guard, open, DataTimeProof, StoreError};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::collections::BTreeMap;
use std::path::Path;

/// Everything read back, in key order.
#[derive(Debug, Default)]
pub struct Salvage {
    /// Per filter, its frames as stored (number, encoded frame).
    pub frames: BTreeMap<Vec<u8>, Vec<(u64, Vec<u8>)>>,
    /// Per peer, its proof records that decode (increment, record).
    pub chains: BTreeMap<Vec<u8>, Vec<(u32, DataTimeProof)>>,
    /// Per peer, how far its chain came from an original node, where that can be read.
    pub imported: BTreeMap<Vec<u8>, u32>,
    /// What could not be read, in words.
    pub unreadable: Vec<String>,
}

/// Reads what it can of the store at `path`; an error only when redb cannot open the
/// copy at all.
pub fn salvage(path: &Path) -> Result<Salvage, StoreError> {
    let db = open::unchecked_copy(path)?;
    let mut out = Salvage::default();
    read_each(
        path,
        &db,
        FRAMES,
        "frames",
        &mut out,
        |out, (filter, n), v| {
            let frames = out.frames.entry(filter.to_vec()).or_default();
            let ascending = frames.last().is_none_or(|(last, _)| n > *last);
            ascending.then(|| frames.push((n, v.to_vec()))).is_some()
        },
    );
    read_each(
        path,
        &db,
        PROOFS,
        "proof records",
        &mut out,
        |out, (peer, n), v| {
            let chain = out.chains.entry(peer.to_vec()).or_default();
            let ascending = chain.last().is_none_or(|(last, _)| n > *last);
            if let Some(proof) = DataTimeProof::decode(v).filter(|_| ascending) {
                chain.push((n, proof));
            }
            ascending
        },
    );
    read_each(
        path,
        &db,
        IMPORTED,
        "import marks",
        &mut out,
        |out, peer, last| out.imported.insert(peer.to_vec(), last).is_none(),
    );
    // Closing commits the copy's free-page bookkeeping, which a damaged tree can make
    // redb panic on: inside the guard, and nothing of it matters (the copy is in memory).
    let _ = guard::run(path, || {
        drop(db);
        Ok(())
    });
    Ok(out)
}

/// Entries read from one table at most: a damaged tree can point back into itself, and
/// no store of this size holds more.
const MAX_ENTRIES: usize = 1 << 24;

/// Hands each entry of `table` to `take`, in key order, until one cannot be read (an
/// error or a panic in redb) or `take` refuses it (keys that do not ascend: a damaged
/// tree), which is noted in `out.unreadable`.
fn read_each<K, V>(
    path: &Path,
    db: &Database,
    table: TableDefinition<K, V>,
    what: &str,
    out: &mut Salvage,
    mut take: impl FnMut(&mut Salvage, K::SelfType<'_>, V::SelfType<'_>) -> bool,
) where
    K: redb::Key + 'static,
    V: redb::Value + 'static,
{
    let read = guard::run(path, || {
        let err = |e: redb::Error| StoreError::from_redb(path, e);
        let txn = db.begin_read().map_err(|e| err(e.into()))?;
        let Some(table) = existing_table(&txn, table).map_err(|e| err(e.into()))? else {
            return Ok(());
        };
        for entry in table.iter().map_err(|e| err(e.into()))?.take(MAX_ENTRIES) {
            let (key, value) = entry.map_err(|e| err(e.into()))?;
            if !take(out, key.value(), value.value()) {
                return Err(StoreError::corrupt(
                    path,
                    "keys out of order (a damaged tree)",
                ));
            }
        }
        Ok(())
    });
    if let Err(e) = read {
        out.unreadable.push(format!("{what}: read stopped: {e}"));
    }
}
