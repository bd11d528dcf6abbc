//! A pebble store read as the original leaves it (format `FormatMostCompatible`, which its
//! `pebble.Open(path, &pebble.Options{})` means): the MANIFEST named by `CURRENT` gives the
//! live sstables and the oldest unflushed WAL; the sstables and those WALs hold every
//! write, and the one with the highest sequence number is a key's value.
//!
//! Read only: nothing in the directory is written or locked, so a copy of the store, or
//! the store of a stopped node, gives a consistent view; a node writing meanwhile may
//! leave a torn WAL tail, which reading stops at and reports.

pub mod batch;
pub mod manifest;
pub mod record;
pub mod sstable;
mod varint;

use batch::{Op, SET, SET_WITH_DELETE};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The comparator every pebble store of the original uses.
const BYTEWISE: &str = "leveldb.BytewiseComparator";
/// Deletions (DEL, SINGLEDEL, DELSIZED).
const DELETIONS: [u8; 3] = [0, 7, 23];
const MAX_SMALL_FILE: u64 = 4096;
const MAX_MANIFEST: u64 = 256 * 1024 * 1024;
const MAX_TABLE: u64 = 1024 * 1024 * 1024;

/// Why a store could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{}: {what}", path.display())]
pub struct PebbleError {
    /// The file at fault.
    pub path: PathBuf,
    /// What is wrong with it.
    pub what: String,
}

/// The live keys of a store.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Every live key and its value.
    pub live: BTreeMap<Vec<u8>, Vec<u8>>,
    /// What reading stopped at in each WAL, when it was not a clean end.
    pub notes: Vec<String>,
}

fn fail(path: &Path, what: impl Into<String>) -> PebbleError {
    PebbleError {
        path: path.to_path_buf(),
        what: what.into(),
    }
}

fn read_file(path: &Path, max: u64) -> Result<Vec<u8>, PebbleError> {
    qnode_files::read_regular(path, max)
        .map_err(|e| fail(path, e.to_string()))?
        .ok_or_else(|| fail(path, "missing"))
}

/// Reads the store in `dir`.
pub fn read(dir: &Path) -> Result<Snapshot, PebbleError> {
    let current_path = dir.join("CURRENT");
    let current = read_file(&current_path, MAX_SMALL_FILE)?;
    let name = std::str::from_utf8(&current)
        .ok()
        .map(str::trim)
        .filter(|n| n.starts_with("MANIFEST-") && !n.contains('/'))
        .ok_or_else(|| fail(&current_path, "does not name a MANIFEST"))?;
    let manifest_path = dir.join(name);
    let (edits, _) = record::records(&read_file(&manifest_path, MAX_MANIFEST)?, None);
    let version = manifest::replay(&edits).map_err(|e| fail(&manifest_path, e))?;
    if version.comparator != BYTEWISE {
        return Err(fail(
            &manifest_path,
            format!("comparator {:?}, not {BYTEWISE}", version.comparator),
        ));
    }
    let mut ops = Vec::new();
    for file in version.files.keys() {
        let path = dir.join(format!("{file:06}.sst"));
        ops.extend(sstable::entries(&read_file(&path, MAX_TABLE)?).map_err(|e| fail(&path, e))?);
    }
    let mut notes = Vec::new();
    for (number, path) in wals(dir, version.log_number)? {
        let (records, end) = record::records(&read_file(&path, MAX_TABLE)?, Some(number));
        if let record::End::Torn(why) = end {
            notes.push(format!("{}: stopped at {why}", path.display()));
        }
        for record in records {
            ops.extend(batch::decode(&record).map_err(|e| fail(&path, e))?);
        }
    }
    Ok(Snapshot {
        live: newest(ops).map_err(|e| fail(dir, e))?,
        notes,
    })
}

/// The WALs numbered `from` or above, in order.
fn wals(dir: &Path, from: u64) -> Result<Vec<(u64, PathBuf)>, PebbleError> {
    let entries = std::fs::read_dir(dir).map_err(|e| fail(dir, e.to_string()))?;
    let mut logs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| fail(dir, e.to_string()))?;
        let name = entry.file_name();
        let Some(number) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".log"))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        if number >= from {
            logs.push((number, entry.path()));
        }
    }
    logs.sort();
    Ok(logs)
}

/// Each key's newest operation, kept when it is a SET.
fn newest(ops: Vec<Op>) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, String> {
    let mut latest: BTreeMap<Vec<u8>, Op> = BTreeMap::new();
    for op in ops {
        if !(op.kind == SET || op.kind == SET_WITH_DELETE || DELETIONS.contains(&op.kind)) {
            return Err(format!(
                "an operation of kind {} (merges, range deletions and range keys are not \
                 written by the original and not read here)",
                op.kind
            ));
        }
        match latest.get(&op.key) {
            Some(seen) if seen.seq >= op.seq => {}
            _ => {
                latest.insert(op.key.clone(), op);
            }
        }
    }
    Ok(latest
        .into_iter()
        .filter_map(|(key, op)| match DELETIONS.contains(&op.kind) {
            true => None,
            false => op.value.map(|value| (key, value)),
        })
        .collect())
}
