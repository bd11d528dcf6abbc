//! Opening without ever damaging what is there, and without trusting it unchecked.
//!
//! Every open starts from a snapshot: the file is read whole into memory under a shared
//! lock (so a running node's writes cannot tear it) and redb opens that copy, repairs it
//! in memory if it was not closed cleanly, and verifies the checksum of every page. Then
//! qnode's own records are checked (see `check`). Only a snapshot that passes all of it
//! lets the node open the real file for writing, so a damaged store is reported before a
//! single byte is written, and crash recovery on the real file is known to succeed before
//! it starts. Tools read the snapshot itself and never touch the file.

use crate::schema::{self, SCHEMA_VERSION};
use crate::{check, guard, StoreError};
use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg};
use redb::backends::InMemoryBackend;
use redb::{Builder, Database, StorageBackend};
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Opens (creating it when missing) the store for the node's writes.
pub(crate) fn writable(path: &Path) -> Result<Database, StoreError> {
    if !path.exists() {
        create(path)?;
    }
    let verified = snapshot(path)?;
    let version = schema::version(path, &verified)?;
    refuse_newer(path, version)?;
    check::records(path, &verified)?.into_result(path)?;
    drop(verified);
    let db = guard::run(path, || {
        Database::open(path).map_err(|e| StoreError::from_redb(path, e))
    })?;
    if version < SCHEMA_VERSION {
        schema::migrate(path, &db, version)?;
    }
    Ok(db)
}

/// Opens a verified in-memory copy of an existing store, for tools that only read.
pub(crate) fn read_only(path: &Path) -> Result<Database, StoreError> {
    let db = snapshot(path)?;
    refuse_newer(path, schema::version(path, &db)?)?;
    Ok(db)
}

fn refuse_newer(path: &Path, version: u32) -> Result<(), StoreError> {
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// A new, empty store of the current schema, made under a temporary name and renamed into
/// place, so a crash during creation leaves no half-made store.
fn create(path: &Path) -> Result<(), StoreError> {
    let fresh = with_suffix(path, "creating");
    let _ = fs::remove_file(&fresh); // left by a crash during an earlier creation
    let made = guard::run(&fresh, || {
        let db = Database::create(&fresh).map_err(|e| StoreError::from_redb(&fresh, e))?;
        schema::migrate(&fresh, &db, 0)?;
        db.close().map_err(|e| StoreError::from_redb(&fresh, e))
    });
    if let Err(e) = made {
        let _ = fs::remove_file(&fresh);
        return Err(e);
    }
    fs::rename(&fresh, path).map_err(|e| StoreError::io(path, e))
}

/// The whole file in memory, opened and verified by redb there.
fn snapshot(path: &Path) -> Result<Database, StoreError> {
    let mut db = unchecked_copy(path)?;
    guard::run(path, || {
        match db.check_integrity() {
            Ok(true) => Ok(db),
            // redb could rebuild a consistent state, but only by rolling back or dropping
            // damaged pages: that loses records, which is the operator's call, not ours.
            Ok(false) => Err(StoreError::corrupt(
                path,
                "damaged pages (redb could only repair it by dropping data)",
            )),
            Err(e) => Err(in_memory_error(path, e)),
        }
    })
}

/// The whole file in memory, opened by redb there but not checked: what the salvage reads
/// (the integrity check refuses a whole store for one damaged page).
pub(crate) fn unchecked_copy(path: &Path) -> Result<Database, StoreError> {
    let bytes = read_locked(path)?;
    if bytes.is_empty() {
        return Err(StoreError::corrupt(path, "the file is empty"));
    }
    guard::run(path, || {
        let memory = InMemoryBackend::new();
        let redb_io = |e| StoreError::corrupt(path, format!("{e:?}"));
        memory.set_len(bytes.len() as u64).map_err(redb_io)?;
        memory.write(0, &bytes).map_err(redb_io)?;
        drop(bytes);
        Builder::new()
            .create_with_backend(memory)
            .map_err(|e| in_memory_error(path, e))
    })
}

/// The copy is in memory, so what redb reports as an I/O error (a read past the end, a
/// bad length) is a fault of the data.
fn in_memory_error(path: &Path, e: impl Into<redb::Error>) -> StoreError {
    match StoreError::from_redb(path, e) {
        StoreError::Io { path, source } => StoreError::Corrupt {
            path,
            cause: source.to_string(),
        },
        other => other,
    }
}

/// Reads the file whole under a shared lock: a node holding the store for writing makes
/// this fail at once as in use, instead of handing back a half-written copy.
fn read_locked(path: &Path) -> Result<Vec<u8>, StoreError> {
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => StoreError::Missing {
            path: path.to_path_buf(),
        },
        _ => StoreError::io(path, e),
    })?;
    if !meta.is_file() {
        // Opening a FIFO would block, and a device could be endless.
        return Err(StoreError::corrupt(
            path,
            "not a regular file (a directory, FIFO or device)",
        ));
    }
    let mut file = File::open(path).map_err(|e| StoreError::io(path, e))?;
    let whole_file = nix::libc::flock {
        l_type: nix::libc::F_RDLCK as i16,
        l_whence: nix::libc::SEEK_SET as i16,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    // A file system without locks answers otherwise: read anyway, the integrity check
    // catches a torn copy.
    if let Err(Errno::EAGAIN | Errno::EACCES) = fcntl(&file, FcntlArg::F_OFD_SETLK(&whole_file)) {
        return Err(StoreError::InUse {
            path: path.to_path_buf(),
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)
        .map_err(|e| StoreError::io(path, e))?;
    Ok(bytes)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}
