//! qnode's embedded store on redb: master clock frames (by filter and number, with each
//! filter's head) and the data time proof chain (by peer and increment, with the latest
//! increment and the running reward).
//!
//! Every logical change is one redb write transaction, committed durably, and the store
//! refuses changes that would break the chains (a frame that is not head + 1, a proof
//! that is not latest + 1), so a crash at any point leaves a prefix of what was written:
//! nothing torn, no gaps, nothing twice.
//!
//! Opening never silently discards data. A file that needs recovery after a crash is
//! recovered from a backup copy kept until recovery succeeds; a file that cannot be opened
//! is left exactly as it was, with an error naming it and what to do.

mod error;
mod frames;
mod open;
mod proofs;

pub use error::StoreError;
pub use proofs::{DataTimeProof, LatestProof, REWARD_PER_CORE};

use redb::Database;
use std::path::{Path, PathBuf};

/// The file name of the store inside a config directory.
pub const STORE_FILE: &str = "store.redb";

/// An open store. One process at a time: redb locks the file.
pub struct Store {
    db: Database,
    path: PathBuf,
}

impl Store {
    /// Opens `config_dir/store.redb` if it exists: for tools that must not create one.
    pub fn open_existing_in(config_dir: &Path) -> Result<Store, StoreError> {
        let path = config_dir.join(STORE_FILE);
        if !path.exists() {
            return Err(StoreError::Missing { path });
        }
        Store::open(&path)
    }

    /// Opens (or creates) `config_dir/store.redb`.
    pub fn open_in(config_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(config_dir).map_err(|e| StoreError::Io {
            path: config_dir.to_path_buf(),
            cause: e.to_string(),
        })?;
        Store::open(&config_dir.join(STORE_FILE))
    }

    /// Opens (or creates) the store file at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let db = open::open_or_create(path)?;
        Ok(Store {
            db,
            path: path.to_path_buf(),
        })
    }

    /// The file behind this store.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: impl Into<redb::Error>) -> StoreError {
        StoreError::from_redb(&self.path, e)
    }
}
