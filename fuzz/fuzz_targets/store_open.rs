//! A store file of arbitrary bytes, opened read-only and read whole, as `qnode proofs`,
//! `frames` and `db check` do: any answer is fine (most are "corrupt"); a panic or abort
//! is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qnode_store::Store;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join(qnode_store::STORE_FILE);
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let Ok(store) = Store::open_read_only(&path) else {
        return;
    };
    if let Ok(report) = store.check() {
        for chain in &report.chains {
            let _ = store.latest_data_time_proof(&chain.peer);
        }
        for filter in &report.filters {
            let _ = store.frames(&filter.filter, 0..=u64::MAX);
        }
    }
});
