//! LevelDB's log record framing, as pebble writes its WAL and MANIFEST: 32 KiB blocks of
//! chunks, each `crc32c (masked) ‖ length (2, LE) ‖ type (1)` with, in pebble's
//! "recyclable" WAL chunks (types 5–8), the log number (4, LE) too; a record is one FULL
//! chunk or FIRST, MIDDLE…, LAST. A block's tail too short for a header is padding.
//!
//! Reading stops, as pebble's does, at the end of what was written: an all-zero header
//! (a preallocated or recycled file's unwritten part), a chunk of another log number (a
//! recycled file's older contents), or a chunk that does not check — a write cut short by
//! a crash. What stopped it is reported, never guessed past.

const BLOCK: usize = 32 * 1024;
const LEGACY_HEADER: usize = 7;
const RECYCLABLE_HEADER: usize = 11;

/// Why reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The data ran out on a record boundary.
    Complete,
    /// An all-zero header: the file's unwritten part.
    Unwritten,
    /// A chunk of another log number: an older log's contents in a reused file.
    Recycled,
    /// A chunk that does not check (a torn write), with where and why.
    Torn(String),
}

/// pebble's masked CRC-32C.
pub(crate) fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    (crc.rotate_right(15)).wrapping_add(0xa282_ead8)
}

fn le_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

/// The records of `data`, and why reading stopped. `log_number` is checked against
/// recyclable chunks (a WAL's file number); MANIFEST chunks carry none.
pub fn records(data: &[u8], log_number: Option<u64>) -> (Vec<Vec<u8>>, End) {
    let mut out = Vec::new();
    let mut partial: Option<Vec<u8>> = None;
    let mut pos = 0;
    while pos < data.len() {
        let block_end = ((pos / BLOCK + 1) * BLOCK).min(data.len());
        if block_end - pos < LEGACY_HEADER {
            pos = block_end;
            continue;
        }
        let chunk = match read_chunk(&data[pos..block_end], log_number) {
            Ok(chunk) => chunk,
            Err(end) => return (out, end.at(pos)),
        };
        pos += chunk.size;
        match (chunk.kind, partial.take()) {
            (Kind::Full, None) => out.push(chunk.payload.to_vec()),
            (Kind::First, None) => partial = Some(chunk.payload.to_vec()),
            (Kind::Middle, Some(mut record)) => {
                record.extend_from_slice(chunk.payload);
                partial = Some(record);
            }
            (Kind::Last, Some(mut record)) => {
                record.extend_from_slice(chunk.payload);
                out.push(record);
            }
            (kind, _) => {
                let why = format!("a {kind:?} chunk out of sequence at byte {pos}");
                return (out, End::Torn(why));
            }
        }
    }
    let end = match partial {
        None => End::Complete,
        Some(_) => End::Torn("the file ends inside a record".into()),
    };
    (out, end)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Full,
    First,
    Middle,
    Last,
}

struct Chunk<'a> {
    kind: Kind,
    payload: &'a [u8],
    size: usize,
}

/// Why a chunk could not be read, before its position is known.
enum Stop {
    Unwritten,
    Recycled,
    Torn(&'static str),
}

impl Stop {
    fn at(self, pos: usize) -> End {
        match self {
            Stop::Unwritten => End::Unwritten,
            Stop::Recycled => End::Recycled,
            Stop::Torn(why) => End::Torn(format!("{why} at byte {pos}")),
        }
    }
}

fn read_chunk(block: &[u8], log_number: Option<u64>) -> Result<Chunk<'_>, Stop> {
    let (crc, len, kind) = (
        le_u32(block, 0),
        usize::from(u16::from_le_bytes([block[4], block[5]])),
        block[6],
    );
    if crc == 0 && len == 0 && kind == 0 {
        return Err(Stop::Unwritten);
    }
    let (header, kind) = match kind {
        1..=4 => (LEGACY_HEADER, kind),
        5..=8 => (RECYCLABLE_HEADER, kind - 4),
        _ => return Err(Stop::Torn("an unknown chunk type")),
    };
    if block.len() < header + len {
        return Err(Stop::Torn("a chunk longer than its block"));
    }
    if header == RECYCLABLE_HEADER {
        let number = u64::from(le_u32(block, 7));
        if log_number.is_some_and(|n| n & 0xffff_ffff != number) {
            return Err(Stop::Recycled);
        }
    }
    if masked_crc(&block[6..header + len]) != crc {
        return Err(Stop::Torn("a checksum mismatch"));
    }
    let kind = match kind {
        1 => Kind::Full,
        2 => Kind::First,
        3 => Kind::Middle,
        _ => Kind::Last,
    };
    Ok(Chunk {
        kind,
        payload: &block[header..header + len],
        size: header + len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `records` as pebble does (recyclable chunks of log `number`).
    pub(crate) fn write(records: &[&[u8]], number: u32) -> Vec<u8> {
        let mut out = Vec::new();
        for record in records {
            let mut rest: &[u8] = record;
            let mut first = true;
            loop {
                let room = BLOCK - out.len() % BLOCK;
                if room < RECYCLABLE_HEADER {
                    out.extend(std::iter::repeat_n(0, room));
                    continue;
                }
                let take = rest.len().min(room - RECYCLABLE_HEADER);
                let last = take == rest.len();
                let kind = match (first, last) {
                    (true, true) => 5,
                    (true, false) => 6,
                    (false, false) => 7,
                    (false, true) => 8,
                };
                let mut body = vec![kind];
                body.extend_from_slice(&number.to_le_bytes());
                body.extend_from_slice(&rest[..take]);
                out.extend_from_slice(&masked_crc(&body).to_le_bytes());
                out.extend_from_slice(&(take as u16).to_le_bytes());
                out.extend_from_slice(&body);
                rest = &rest[take..];
                first = false;
                if last {
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn records_across_blocks_come_back_whole() {
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let small = b"small".as_slice();
        let mut data = write(&[small, &big, small], 2);
        data.extend(std::iter::repeat_n(0, 5000));
        let (records, end) = records(&data, Some(2));
        assert_eq!(records, vec![small.to_vec(), big, small.to_vec()]);
        assert_eq!(end, End::Unwritten);
    }

    #[test]
    fn a_torn_tail_or_another_logs_chunks_end_the_log() {
        let data = write(&[b"one", b"two"], 7);
        let (read, end) = records(&data[..data.len() - 1], Some(7));
        assert_eq!(read, vec![b"one".to_vec()]);
        assert!(matches!(end, End::Torn(_)), "{end:?}");
        let (read, end) = records(&data, Some(8));
        assert!(read.is_empty());
        assert_eq!(end, End::Recycled);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_read_without_panicking(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..70_000)) {
            let _ = records(&data, Some(1));
            let _ = records(&data, None);
        }
    }
}
