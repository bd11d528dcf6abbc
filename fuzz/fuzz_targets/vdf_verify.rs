//! `qnode_vdf::verify` on hostile bytes: any answer is fine, a panic or abort is a bug.
//!
//! The first byte picks the mode: raw bytes as the output, or a valid output with the
//! rest of the input XORed over it (so the fuzzer reaches the decoding and group checks
//! instead of stopping at the length test). The next four bytes pick the difficulty.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const CHALLENGE: &[u8] = b"fuzz";
const T: u32 = 64;

fn valid() -> &'static [u8; qnode_vdf::OUTPUT_BYTES] {
    static OUT: OnceLock<[u8; qnode_vdf::OUTPUT_BYTES]> = OnceLock::new();
    OUT.get_or_init(|| qnode_vdf::solve(CHALLENGE, T).expect("t > 0"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&[mode, d0, d1, d2, d3], rest)) = data.split_first_chunk::<5>() else {
        return;
    };
    // Near T most of the time so the proof check itself runs; 0 included on purpose.
    let difficulty = T.wrapping_add(u32::from_be_bytes([d0, d1, d2, d3]) % 8) - 4;
    if mode % 2 == 0 {
        let _ = qnode_vdf::verify(CHALLENGE, difficulty, rest);
    } else {
        let mut output = *valid();
        for (o, x) in output.iter_mut().zip(rest) {
            *o ^= x;
        }
        let _ = qnode_vdf::verify(CHALLENGE, difficulty, &output);
    }
});
