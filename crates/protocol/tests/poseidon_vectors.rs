//! `shared/vectors/poseidon.json`: the original's `poseidon.HashBytes` outputs.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use qnode_protocol::poseidon::{hash_bytes, PoseidonError};
use qnode_test_vectors::{assert_checked_all, cases, raw_cases};

#[test]
fn hash_bytes_matches_the_original() {
    let mut checked = 0;
    for case in qnode_test_vectors::poseidon().hash_bytes {
        let input = hex::decode(&case.input).expect("hex");
        let out = hash_bytes(&input).expect("non-empty input");
        assert_eq!(
            hex::encode(out),
            case.output,
            "input of {} bytes",
            input.len()
        );
        checked += 1;
    }
    let in_file = raw_cases("poseidon.json", "hash_bytes").len();
    assert_checked_all("hash_bytes", checked, in_file, cases::HASH_BYTES);
}

#[test]
fn empty_input_has_no_hash() {
    assert_eq!(hash_bytes(&[]), Err(PoseidonError::Empty));
}
