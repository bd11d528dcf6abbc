//! `qnode_vdf::verify` on arbitrary bytes: any answer is fine, a panic or abort is a bug.
//! The first four bytes pick the difficulty; the challenge is fixed so the discriminant is
//! computed once and the fuzzer spends its time in decoding and checking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((head, output)) = data.split_first_chunk::<4>() else {
        return;
    };
    // Small difficulties keep each run fast; 0 is included on purpose.
    let difficulty = u32::from_be_bytes(*head) % 4096;
    let _ = qnode_vdf::verify(b"fuzz", difficulty, output);
});
