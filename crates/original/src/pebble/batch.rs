//! A WAL record is one write batch: `seqnum (8, LE) ‖ count (4, LE)` and then operations,
//! each `kind ‖ uvarint key length ‖ key` and, for kinds that carry one, `uvarint value
//! length ‖ value`. Every operation but LOGDATA takes the next sequence number.

use super::varint::Reader;

/// SET: the key holds the value.
pub const SET: u8 = 1;
/// SETWITHDEL: a SET that also deleted (written by compactions).
pub const SET_WITH_DELETE: u8 = 18;
const LOG_DATA: u8 = 3;
/// Kinds that carry a value: SET, MERGE, RANGEDEL, SETWITHDEL, the range-key kinds and
/// DELSIZED.
const WITH_VALUE: [u8; 8] = [1, 2, 15, 18, 19, 20, 21, 23];
/// Kinds pebble knows (DEL, SET, MERGE, LOGDATA, SINGLEDEL, RANGEDEL, SETWITHDEL, range
/// keys, INGESTSST, DELSIZED).
const KNOWN: [u8; 12] = [0, 1, 2, 3, 7, 15, 18, 19, 20, 21, 22, 23];

/// One operation of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// Its sequence number: the newest operation on a key wins.
    pub seq: u64,
    /// Its kind ([`SET`], a deletion, …).
    pub kind: u8,
    /// The user key.
    pub key: Vec<u8>,
    /// The value, for kinds that carry one.
    pub value: Option<Vec<u8>>,
}

/// The operations of one batch record.
pub fn decode(record: &[u8]) -> Result<Vec<Op>, String> {
    let mut r = Reader::new(record);
    let mut seq = r.u64_le().ok_or("a batch shorter than its header")?;
    r.skip(4).ok_or("a batch shorter than its header")?;
    let mut ops = Vec::new();
    while !r.is_empty() {
        let kind = r.byte().ok_or("a truncated operation")?;
        if !KNOWN.contains(&kind) {
            return Err(format!("an operation of unknown kind {kind}"));
        }
        let key = r.sized().ok_or("a truncated key")?.to_vec();
        let value = match WITH_VALUE.contains(&kind) {
            true => Some(r.sized().ok_or("a truncated value")?.to_vec()),
            false => None,
        };
        if kind == LOG_DATA {
            continue;
        }
        ops.push(Op {
            seq,
            kind,
            key,
            value,
        });
        seq += 1;
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_of_sets_and_a_delete_decodes_with_sequence_numbers() {
        let mut record = Vec::new();
        record.extend_from_slice(&10u64.to_le_bytes());
        record.extend_from_slice(&3u32.to_le_bytes());
        record.extend_from_slice(&[SET, 2, b'a', b'b', 1, b'v']);
        record.extend_from_slice(&[LOG_DATA, 1, b'x']);
        record.extend_from_slice(&[0, 1, b'k']);
        let ops = decode(&record).expect("decodes");
        assert_eq!(ops.len(), 2);
        assert_eq!((ops[0].seq, ops[0].value.as_deref()), (10, Some(&b"v"[..])));
        assert_eq!(
            (ops[1].seq, ops[1].kind, ops[1].value.clone()),
            (11, 0, None)
        );
        assert!(decode(&record[..record.len() - 1]).is_err());
        assert!(decode(&[0; 5]).is_err());
    }
}
