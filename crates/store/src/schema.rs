//! The store's schema version and the steps that bring an older store up to it.
//!
//! Version 0 is a store written before qnode kept a version (no `qnode_meta` table); its
//! tables are laid out as version 1's. Version 1 records the version itself. A store of a
//! newer version than this build knows is refused before anything reads its tables.

use crate::{existing_table, guard, write_transaction, StoreError};
use redb::{Database, ReadableDatabase, TableDefinition};
use std::path::Path;

const META: TableDefinition<&str, u32> = TableDefinition::new("qnode_meta");
const VERSION_KEY: &str = "schema_version";

/// The schema this build writes.
pub const SCHEMA_VERSION: u32 = 1;

/// The version of the store behind `db` (0 when it predates versioning).
pub(crate) fn version(path: &Path, db: &impl ReadableDatabase) -> Result<u32, StoreError> {
    guard::run(path, || {
        let err = |e: redb::Error| StoreError::from_redb(path, e);
        let txn = db.begin_read().map_err(|e| err(e.into()))?;
        let Some(meta) = existing_table(&txn, META).map_err(|e| err(e.into()))? else {
            return Ok(0);
        };
        let version = meta.get(VERSION_KEY).map_err(|e| err(e.into()))?;
        version
            .map(|v| v.value())
            .ok_or_else(|| StoreError::corrupt(path, "the schema table has no version"))
    })
}

/// Brings a store of version `from` up to [`SCHEMA_VERSION`], one step per version, each
/// step one transaction.
pub(crate) fn migrate(path: &Path, db: &Database, from: u32) -> Result<(), StoreError> {
    for version in from..SCHEMA_VERSION {
        guard::run(path, || {
            step(db, version + 1).map_err(|e| StoreError::from_redb(path, e))
        })?;
    }
    Ok(())
}

/// The change that makes a store of version `to - 1` one of version `to`.
fn step(db: &Database, to: u32) -> Result<(), redb::Error> {
    let txn = write_transaction(db)?;
    {
        // 0 → 1: the tables are unchanged; the store starts recording its version.
        let mut meta = txn.open_table(META)?;
        meta.insert(VERSION_KEY, to)?;
    }
    txn.commit()?;
    Ok(())
}
