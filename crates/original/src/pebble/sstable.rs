//! pebble's sstables in the format the original writes (`TableFormatRocksDBv2`): RocksDB's
//! block-based tables. Data blocks of prefix-compressed entries with restart points, each
//! block followed by a compression byte (none or Snappy) and a masked CRC-32C; an index
//! (one or two levels) of block handles; a 53-byte footer ending in RocksDB's magic. Keys
//! are internal keys: user key ‖ `(seqnum << 8 | kind)` as 8 bytes, LE.

use super::batch::Op;
use super::record::masked_crc;
use super::varint::Reader;

const FOOTER: usize = 53;
const ROCKSDB_MAGIC: [u8; 8] = [0xf7, 0xcf, 0xf4, 0x85, 0xb7, 0x41, 0xe2, 0x88];
const LEVELDB_MAGIC: [u8; 8] = [0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb];
const TRAILER: usize = 5;
const NO_COMPRESSION: u8 = 0;
const SNAPPY: u8 = 1;
const PROPERTIES: &[u8] = b"rocksdb.properties";
const INDEX_TYPE: &[u8] = b"rocksdb.block.based.table.index.type";
/// The index type value of a two-level index (RocksDB's `kTwoLevelIndexSearch`).
const TWO_LEVEL: [u8; 4] = [2, 0, 0, 0];
/// A decompressed block larger than this is refused (pebble's blocks are 4 KiB).
const MAX_BLOCK: usize = 64 * 1024 * 1024;

/// Every entry of a table, as operations with their sequence numbers.
pub fn entries(table: &[u8]) -> Result<Vec<Op>, String> {
    let (metaindex, index) = footer(table)?;
    let meta = block_entries(&block(table, metaindex)?)?;
    let two_level = match meta.iter().find(|(k, _)| k == PROPERTIES) {
        Some((_, handle)) => {
            let properties = block_entries(&block(table, parse_handle(handle)?)?)?;
            properties
                .iter()
                .any(|(k, v)| k == INDEX_TYPE && v.as_slice() == TWO_LEVEL)
        }
        None => false,
    };
    let mut data_blocks = Vec::new();
    for (_, handle) in block_entries(&block(table, index)?)? {
        let handle = parse_handle(&handle)?;
        if two_level {
            for (_, inner) in block_entries(&block(table, handle)?)? {
                data_blocks.push(parse_handle(&inner)?);
            }
        } else {
            data_blocks.push(handle);
        }
    }
    let mut ops = Vec::new();
    for handle in data_blocks {
        for (key, value) in block_entries(&block(table, handle)?)? {
            ops.push(internal(key, value)?);
        }
    }
    Ok(ops)
}

type Handle = (usize, usize);
/// A block's entries: key and value.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

fn footer(table: &[u8]) -> Result<(Handle, Handle), String> {
    if table.len() < FOOTER {
        return Err("shorter than a footer".into());
    }
    let footer = &table[table.len() - FOOTER..];
    let magic = &footer[FOOTER - 8..];
    if magic == LEVELDB_MAGIC {
        return Err("a LevelDB table, not pebble's RocksDB format".into());
    }
    if magic != ROCKSDB_MAGIC {
        return Err("no RocksDB table magic at the end".into());
    }
    let mut r = Reader::new(&footer[1..]);
    let metaindex = read_handle(&mut r).ok_or("a malformed footer")?;
    let index = read_handle(&mut r).ok_or("a malformed footer")?;
    Ok((metaindex, index))
}

fn read_handle(r: &mut Reader<'_>) -> Option<Handle> {
    let offset = usize::try_from(r.uvarint()?).ok()?;
    let size = usize::try_from(r.uvarint()?).ok()?;
    Some((offset, size))
}

fn parse_handle(bytes: &[u8]) -> Result<Handle, String> {
    read_handle(&mut Reader::new(bytes)).ok_or_else(|| "a malformed block handle".into())
}

/// A block's contents, checked and decompressed.
fn block(table: &[u8], (offset, size): Handle) -> Result<Vec<u8>, String> {
    let end = offset
        .checked_add(size)
        .and_then(|e| e.checked_add(TRAILER))
        .filter(|e| *e <= table.len())
        .ok_or("a block handle past the end of the table")?;
    let raw = &table[offset..end];
    let (body, trailer) = raw.split_at(size);
    let crc = u32::from_le_bytes([trailer[1], trailer[2], trailer[3], trailer[4]]);
    if masked_crc(&raw[..size + 1]) != crc {
        return Err(format!("a block at byte {offset} fails its checksum"));
    }
    match trailer[0] {
        NO_COMPRESSION => Ok(body.to_vec()),
        SNAPPY => {
            let len = snap::raw::decompress_len(body).map_err(|e| e.to_string())?;
            if len > MAX_BLOCK {
                return Err(format!("a block of {len} bytes"));
            }
            snap::raw::Decoder::new()
                .decompress_vec(body)
                .map_err(|e| format!("a Snappy block at byte {offset}: {e}"))
        }
        other => Err(format!(
            "compression type {other} (pebble writes none or Snappy)"
        )),
    }
}

/// A block's key/value entries (keys rebuilt from their shared prefixes).
fn block_entries(block: &[u8]) -> Result<Entries, String> {
    let malformed = || "a malformed block".to_string();
    let count_at = block.len().checked_sub(4).ok_or_else(malformed)?;
    let restarts = u32::from_le_bytes(block[count_at..].try_into().map_err(|_| malformed())?);
    let restarts_len = usize::try_from(restarts)
        .ok()
        .and_then(|n| n.checked_mul(4))
        .ok_or_else(malformed)?;
    let end = count_at.checked_sub(restarts_len).ok_or_else(malformed)?;
    let mut r = Reader::new(&block[..end]);
    let mut key: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    while !r.is_empty() {
        let shared =
            usize::try_from(r.uvarint().ok_or_else(malformed)?).map_err(|_| malformed())?;
        let unshared =
            usize::try_from(r.uvarint().ok_or_else(malformed)?).map_err(|_| malformed())?;
        let value_len =
            usize::try_from(r.uvarint().ok_or_else(malformed)?).map_err(|_| malformed())?;
        if shared > key.len() {
            return Err(malformed());
        }
        key.truncate(shared);
        key.extend_from_slice(r.take(unshared).ok_or_else(malformed)?);
        let value = r.take(value_len).ok_or_else(malformed)?;
        out.push((key.clone(), value.to_vec()));
    }
    Ok(out)
}

/// An internal key and its value as an operation.
fn internal(key: Vec<u8>, value: Vec<u8>) -> Result<Op, String> {
    let split = key
        .len()
        .checked_sub(8)
        .ok_or("an internal key shorter than its trailer")?;
    let mut trailer = [0u8; 8];
    trailer.copy_from_slice(&key[split..]);
    let trailer = u64::from_le_bytes(trailer);
    let mut user_key = key;
    user_key.truncate(split);
    Ok(Op {
        seq: trailer >> 8,
        kind: (trailer & 0xff) as u8,
        key: user_key,
        value: Some(value),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn varint(mut n: usize, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    /// A block of `entries` (no shared prefixes), one restart point.
    fn make_block(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, v) in entries {
            varint(0, &mut out);
            varint(k.len(), &mut out);
            varint(v.len(), &mut out);
            out.extend_from_slice(k);
            out.extend_from_slice(v);
        }
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out
    }

    fn append_block(table: &mut Vec<u8>, block: &[u8], snappy: bool) -> Vec<u8> {
        let (body, kind) = match snappy {
            true => (
                snap::raw::Encoder::new()
                    .compress_vec(block)
                    .expect("snappy"),
                SNAPPY,
            ),
            false => (block.to_vec(), NO_COMPRESSION),
        };
        let mut handle = Vec::new();
        varint(table.len(), &mut handle);
        varint(body.len(), &mut handle);
        let mut checked = body.clone();
        checked.push(kind);
        table.extend_from_slice(&checked);
        table.extend_from_slice(&masked_crc(&checked).to_le_bytes());
        handle
    }

    /// A one-level table of SETs at `seq`, as pebble lays it out.
    pub(crate) fn make_table(sets: &[(&[u8], &[u8])], seq: u64, snappy: bool) -> Vec<u8> {
        let mut table = Vec::new();
        let data: Vec<(Vec<u8>, Vec<u8>)> = sets
            .iter()
            .map(|(k, v)| {
                let mut key = k.to_vec();
                key.extend_from_slice(&((seq << 8) | 1).to_le_bytes());
                (key, v.to_vec())
            })
            .collect();
        let data_handle = append_block(&mut table, &make_block(&data), snappy);
        let meta_handle = append_block(&mut table, &make_block(&[]), false);
        let index = make_block(&[(b"zz".to_vec(), data_handle)]);
        let index_handle = append_block(&mut table, &index, false);
        let mut footer = vec![1u8];
        footer.extend_from_slice(&meta_handle);
        footer.extend_from_slice(&index_handle);
        footer.resize(41, 0);
        footer.extend_from_slice(&2u32.to_le_bytes());
        footer.extend_from_slice(&ROCKSDB_MAGIC);
        table.extend_from_slice(&footer);
        table
    }

    #[test]
    fn a_table_reads_back_with_and_without_snappy() {
        let value = vec![7u8; 3000];
        for snappy in [false, true] {
            let table = make_table(&[(b"a", b"1"), (b"b", &value)], 42, snappy);
            let ops = entries(&table).expect("reads");
            assert_eq!(ops.len(), 2);
            assert_eq!(
                (ops[0].key.as_slice(), ops[0].seq, ops[0].kind),
                (&b"a"[..], 42, 1)
            );
            assert_eq!(ops[1].value.as_deref(), Some(value.as_slice()));
            let mut damaged = table.clone();
            damaged[3] ^= 1;
            assert!(
                entries(&damaged).is_err(),
                "a flipped bit fails the checksum"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_fail_cleanly(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000)) {
            let _ = entries(&data);
        }
    }
}
