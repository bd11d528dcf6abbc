//! `shared/vectors/poseidon.json`: the original's `poseidon.HashBytes` outputs.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use qnode_protocol::poseidon::{hash_bytes, PoseidonError};

#[test]
fn hash_bytes_matches_the_original() {
    let cases = qnode_test_vectors::poseidon().hash_bytes;
    assert!(cases.len() >= 18);
    for case in cases {
        let input = hex::decode(&case.input).expect("hex");
        let out = hash_bytes(&input).expect("non-empty input");
        assert_eq!(
            hex::encode(out),
            case.output,
            "input of {} bytes",
            input.len()
        );
    }
}

#[test]
fn empty_input_has_no_hash() {
    assert_eq!(hash_bytes(&[]), Err(PoseidonError::Empty));
}
