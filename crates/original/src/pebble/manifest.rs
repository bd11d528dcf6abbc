//! The MANIFEST: a log of version edits (LevelDB's, with RocksDB's and pebble's tags)
//! whose replay gives the live sstables and the oldest WAL still holding unflushed writes.

use super::varint::Reader;
use std::collections::BTreeMap;

const COMPARATOR: u64 = 1;
const LOG_NUMBER: u64 = 2;
const NEXT_FILE_NUMBER: u64 = 3;
const LAST_SEQUENCE: u64 = 4;
const COMPACT_POINTER: u64 = 5;
const DELETED_FILE: u64 = 6;
const NEW_FILE: u64 = 7;
const PREV_LOG_NUMBER: u64 = 9;
const NEW_FILE_2: u64 = 100;
const NEW_FILE_3: u64 = 102;
const NEW_FILE_4: u64 = 103;
const NEW_FILE_5: u64 = 104;
const CREATED_BACKING_TABLE: u64 = 105;
const REMOVED_BACKING_TABLE: u64 = 106;
const CUSTOM_TERMINATE: u64 = 1;
const CUSTOM_VIRTUAL: u64 = 66;
/// Custom tags with this bit set must be understood (pebble refuses them otherwise).
const CUSTOM_MUST_UNDERSTAND: u64 = 1 << 6;
/// pebble's flag in a NEW_FILE_5 bounds marker: the table holds point keys.
const CONTAINS_POINT_KEYS: u8 = 1;

/// The store's state after every edit.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Version {
    /// The comparator's name (pebble's default: `leveldb.BytewiseComparator`).
    pub comparator: String,
    /// WALs numbered below this are flushed into sstables.
    pub log_number: u64,
    /// Live sstables: file number → level.
    pub files: BTreeMap<u64, u64>,
}

/// Applies every edit record in order.
pub fn replay(records: &[Vec<u8>]) -> Result<Version, String> {
    let mut version = Version::default();
    for (i, record) in records.iter().enumerate() {
        apply(&mut version, record).map_err(|e| format!("edit {i}: {e}"))?;
    }
    Ok(version)
}

fn apply(version: &mut Version, edit: &[u8]) -> Result<(), String> {
    let mut r = Reader::new(edit);
    let short = "a truncated field";
    while !r.is_empty() {
        let tag = r.uvarint().ok_or(short)?;
        match tag {
            COMPARATOR => {
                let name = r.sized().ok_or(short)?;
                version.comparator = String::from_utf8_lossy(name).into_owned();
            }
            LOG_NUMBER => version.log_number = r.uvarint().ok_or(short)?,
            NEXT_FILE_NUMBER | LAST_SEQUENCE | PREV_LOG_NUMBER | REMOVED_BACKING_TABLE => {
                r.uvarint().ok_or(short)?;
            }
            COMPACT_POINTER => {
                r.uvarint().ok_or(short)?;
                r.sized().ok_or(short)?;
            }
            CREATED_BACKING_TABLE => {
                r.uvarint().ok_or(short)?;
                r.uvarint().ok_or(short)?;
            }
            DELETED_FILE => {
                let _level = r.uvarint().ok_or(short)?;
                let file = r.uvarint().ok_or(short)?;
                version.files.remove(&file);
            }
            NEW_FILE | NEW_FILE_2 | NEW_FILE_3 | NEW_FILE_4 | NEW_FILE_5 => {
                let (file, level) = new_file(&mut r, tag).ok_or(short)??;
                version.files.insert(file, level);
            }
            other => return Err(format!("unknown tag {other}")),
        }
    }
    Ok(())
}

/// A new file's number and level; `Some(Err)` for a table this reader cannot use.
fn new_file(r: &mut Reader<'_>, tag: u64) -> Option<Result<(u64, u64), String>> {
    let level = r.uvarint()?;
    let file = r.uvarint()?;
    if tag == NEW_FILE_3 {
        r.uvarint()?; // path id
    }
    r.uvarint()?; // size
    if tag == NEW_FILE_5 {
        let marker = r.byte()?;
        if marker & CONTAINS_POINT_KEYS != 0 {
            r.sized()?;
            r.sized()?;
        }
    }
    r.sized()?; // smallest key (or range key)
    r.sized()?; // largest
    if tag != NEW_FILE {
        r.uvarint()?; // smallest sequence number
        r.uvarint()?; // largest
    }
    if tag == NEW_FILE_4 || tag == NEW_FILE_5 {
        loop {
            match r.uvarint()? {
                CUSTOM_TERMINATE => break,
                CUSTOM_VIRTUAL => {
                    return Some(Err(format!(
                        "table {file} is virtual (a newer pebble format than the original \
                         writes)"
                    )))
                }
                custom if custom & CUSTOM_MUST_UNDERSTAND != 0 => {
                    return Some(Err(format!("table {file} has custom field {custom}")))
                }
                _ => {
                    r.sized()?;
                }
            }
        }
    }
    Some(Ok((file, level)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_come_and_go_and_the_log_number_moves() {
        // The original's first MANIFEST: comparator, then log 2, next file 3, last seq 9.
        let mut first = vec![1, 26];
        first.extend_from_slice(b"leveldb.BytewiseComparator");
        first.extend_from_slice(&[3, 2, 4, 0]);
        let second = vec![2, 2, 3, 3, 4, 9];
        // A flush: file 5 at L0 (NEW_FILE_4 with a creation time), log 6.
        let mut flush = vec![
            103, 0, 5, 100, 2, b'a', b'b', 2, b'y', b'z', 1, 9, 6, 1, 0, 1,
        ];
        flush.extend_from_slice(&[2, 6]);
        let version = replay(&[first.clone(), second.clone(), flush.clone()]).expect("replays");
        assert_eq!(version.comparator, "leveldb.BytewiseComparator");
        assert_eq!(version.log_number, 6);
        assert_eq!(version.files, BTreeMap::from([(5, 0)]));
        let delete = vec![6, 0, 5];
        let version = replay(&[first, second, flush, delete]).expect("replays");
        assert!(version.files.is_empty());
        assert!(replay(&[vec![250, 1]]).is_err(), "an unknown tag");
        assert!(replay(&[vec![2]]).is_err(), "a truncated field");
    }
}
