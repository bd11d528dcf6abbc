//! The original node's files as `qnode init --from-original` reads them: pebble's log
//! records (WAL and MANIFEST), write batches, version edits and sstables. Any answer is
//! fine; a panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qnode_original::pebble::{batch, manifest, record, sstable};

fuzz_target!(|data: &[u8]| {
    let (records, _) = record::records(data, Some(2));
    for r in &records {
        let _ = batch::decode(r);
    }
    let _ = manifest::replay(&records);
    let _ = batch::decode(data);
    let _ = manifest::replay(&[data.to_vec()]);
    let _ = sstable::entries(data);
});
