//! qnode's embedded store on redb: master clock frames (by filter and number, with each
//! filter's head) and the data time proof chain (by peer and increment, with the latest
//! increment and the running reward).
//!
//! Every logical change is one redb write transaction, committed durably, and the store
//! refuses changes that would break the chains (a frame that is not head + 1, a proof
//! that is not latest + 1), so a crash at any point leaves a prefix of what was written:
//! nothing torn, no gaps, nothing twice.
//!
//! Nothing is trusted unchecked and nothing damaged is built on: every open first reads
//! the file into memory, where redb verifies every page's checksum and qnode checks every
//! record and chain (`open`, `check`). A store that fails is left exactly as it was, with an
//! error naming it and what to do. Tools open that verified copy and never write the file;
//! any panic redb raises on a damaged page is turned into the same error (`guard`).

mod check;
mod error;
mod frames;
mod guard;
mod imported;
mod open;
mod proofs;
mod salvage;
mod schema;

pub use check::{peer_name, ChainSummary, FilterSummary, StoreReport};
pub use error::StoreError;
pub use proofs::{DataTimeProof, LatestProof, REWARD_PER_CORE};
pub use salvage::{salvage, Salvage};
pub use schema::SCHEMA_VERSION;

use redb::{
    Database, ReadOnlyTable, ReadTransaction, ReadableDatabase, TableDefinition, WriteTransaction,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

/// The file name of the store inside a config directory.
pub const STORE_FILE: &str = "store.redb";

/// An open store. One writer at a time: redb locks the file.
pub struct Store {
    /// `None` only while a reopen after a failed write has not succeeded yet.
    db: RwLock<Option<Database>>,
    path: PathBuf,
    writable: bool,
    /// redb refuses every call after a failed write until the file is reopened.
    write_failed: AtomicBool,
}

impl Store {
    /// Opens a verified in-memory copy of `config_dir/store.redb`, for tools that only
    /// read: the file is never written, so this works on a stopped node's store, a backup
    /// on read-only media and a full disk alike.
    pub fn open_read_only_in(config_dir: &Path) -> Result<Store, StoreError> {
        Store::open_read_only(&config_dir.join(STORE_FILE))
    }

    /// Opens a verified in-memory copy of the store file at `path` (see
    /// [`Store::open_read_only_in`]).
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        Ok(Store::new(open::read_only(path)?, path, false))
    }

    /// Opens (or creates) `config_dir/store.redb` for writing, once it has passed every
    /// check.
    pub fn open_in(config_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(config_dir).map_err(|e| StoreError::io(config_dir, e))?;
        Store::open(&config_dir.join(STORE_FILE))
    }

    /// Opens (or creates) the store file at `path` for writing (see [`Store::open_in`]).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store::new(open::writable(path)?, path, true))
    }

    fn new(db: Database, path: &Path, writable: bool) -> Store {
        Store {
            db: RwLock::new(Some(db)),
            path: path.to_path_buf(),
            writable,
            write_failed: AtomicBool::new(false),
        }
    }

    /// The file behind this store.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the store (0: written before qnode kept one; it is migrated
    /// when a node next opens it for writing).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.with_db(|db| schema::version(&self.path, db))
    }

    /// Walks every record, chain, head and latest pointer; the report lists what is wrong.
    pub fn check(&self) -> Result<StoreReport, StoreError> {
        self.with_db(|db| check::records(&self.path, db))
    }

    fn begin_read(&self) -> Result<ReadTransaction, StoreError> {
        self.with_db(|db| db.begin_read().map_err(|e| self.err(e)))
    }

    fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        if !self.writable {
            return Err(StoreError::ReadOnly {
                path: self.path.clone(),
            });
        }
        self.with_db(|db| write_transaction(db).map_err(|e| self.err(e)))
    }

    /// Closes the file cleanly, so the next open needs no crash recovery; calls after this
    /// fail as closed. For the end of a node's stop: tasks that still hold the store may not
    /// have been dropped yet when the process exits.
    pub fn close(&self) -> Result<(), StoreError> {
        let mut slot = self
            .db
            .write()
            .map_err(|_| self.closed("a thread failed holding it"))?;
        match slot.take() {
            Some(db) => guard::run(&self.path, || db.close().map_err(|e| self.err(e))),
            None => Ok(()),
        }
    }

    /// Runs `f` on the open database, first reopening it if a write failed (a full disk):
    /// redb keeps failing until then, and the file itself is as the last commit left it.
    fn with_db<T>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.write_failed.load(Ordering::Acquire) {
            self.reopen()?;
        }
        let slot = self
            .db
            .read()
            .map_err(|_| self.closed("a thread failed holding it"))?;
        let db = slot.as_ref().ok_or_else(|| {
            self.closed("it was closed, or its reopen after a failed write has not succeeded yet")
        })?;
        f(db)
    }

    fn reopen(&self) -> Result<(), StoreError> {
        let mut slot = self
            .db
            .write()
            .map_err(|_| self.closed("a thread failed holding it"))?;
        if !self.write_failed.load(Ordering::Acquire) {
            return Ok(()); // another thread reopened it
        }
        drop(slot.take()); // releases the file lock the new handle needs
        *slot = Some(open::writable(&self.path)?);
        self.write_failed.store(false, Ordering::Release);
        Ok(())
    }

    fn closed(&self, why: &str) -> StoreError {
        StoreError::Io {
            path: self.path.clone(),
            source: format!("the store is closed: {why}").into(),
        }
    }

    fn guarded<T>(&self, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        let result = guard::run(&self.path, f);
        if self.writable && matches!(result, Err(StoreError::Io { .. })) {
            self.write_failed.store(true, Ordering::Release);
        }
        result
    }

    fn err(&self, e: impl Into<redb::Error>) -> StoreError {
        StoreError::from_redb(&self.path, e)
    }

    /// `table` in a new read transaction, `None` when nothing was ever written to it.
    fn read_table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &self,
        table: TableDefinition<K, V>,
    ) -> Result<Option<ReadOnlyTable<K, V>>, StoreError> {
        existing_table(&self.begin_read()?, table).map_err(|e| self.err(e))
    }
}

/// A write transaction that commits in two phases. redb's default single phase lets a
/// crash part way through a commit be repaired by falling back to the commit before it,
/// and that same fallback would silently hide a damaged latest commit; with two phases a
/// damaged latest commit is an error, never a quiet rollback.
pub(crate) fn write_transaction(db: &Database) -> Result<WriteTransaction, redb::TransactionError> {
    let mut txn = db.begin_write()?;
    txn.set_two_phase_commit(true);
    Ok(txn)
}

/// `table` as `txn` sees it, `None` when nothing was ever written to it (redb creates a
/// table on its first write).
pub(crate) fn existing_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &ReadTransaction,
    table: TableDefinition<K, V>,
) -> Result<Option<ReadOnlyTable<K, V>>, redb::TableError> {
    match txn.open_table(table) {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e),
    }
}
