//! Opening without ever damaging what is there.
//!
//! A read-only open goes first: it never writes, so a garbage or truncated file is
//! reported as corrupt and left as it was. A file that only needs crash recovery is copied
//! aside before redb repairs it, and put back if the repair fails. A new store is created
//! under a temporary name and renamed into place, so a crash during creation leaves no
//! half-made store behind.

use crate::StoreError;
use redb::{Builder, Database, DatabaseError};
use std::fs;
use std::path::{Path, PathBuf};

pub(crate) fn open_or_create(path: &Path) -> Result<Database, StoreError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e: std::io::Error| StoreError::Io {
            path: p,
            cause: e.to_string(),
        }
    };
    if !path.exists() {
        let fresh = with_suffix(path, "creating");
        let _ = fs::remove_file(&fresh); // left by a crash during an earlier creation
        Database::create(&fresh)
            .map_err(|e| StoreError::from_redb(&fresh, e))?
            .close()
            .map_err(|e| StoreError::from_redb(&fresh, e))?;
        fs::rename(&fresh, path).map_err(io(path))?;
    }
    match Builder::new().open_read_only(path) {
        Ok(read_only) => {
            drop(read_only);
            Database::open(path).map_err(|e| StoreError::from_redb(path, e))
        }
        Err(DatabaseError::RepairAborted) => recover(path),
        Err(e) => Err(StoreError::from_redb(path, e)),
    }
}

/// Lets redb repair a store that was not closed cleanly, keeping a copy until it succeeds.
fn recover(path: &Path) -> Result<Database, StoreError> {
    let backup = with_suffix(path, "before-recovery");
    fs::copy(path, &backup).map_err(|e| StoreError::Io {
        path: backup.clone(),
        cause: format!("cannot keep a copy before recovery: {e}"),
    })?;
    match Database::open(path) {
        Ok(db) => {
            let _ = fs::remove_file(&backup);
            Ok(db)
        }
        Err(e) => {
            let error = StoreError::from_redb(path, e);
            fs::rename(&backup, path).map_err(|e| StoreError::Io {
                path: path.to_path_buf(),
                cause: format!(
                    "recovery failed and the original could not be put back from {}: {e}",
                    backup.display()
                ),
            })?;
            Err(error)
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}
