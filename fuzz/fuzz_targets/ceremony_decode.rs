//! A KZG setup file of arbitrary bytes, decoded as `qnode run` reads a verified setup:
//! any answer is fine; a panic or abort is a bug. (Full verification runs pairings per
//! point and is too slow to fuzz; its forgeries are tests in `crates/kzg/tests`.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use qnode_kzg::Ceremony;

fuzz_target!(|data: &[u8]| {
    let _ = Ceremony::decode_bytes(data);
});
