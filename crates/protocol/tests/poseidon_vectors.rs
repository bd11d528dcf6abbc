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

mod against_the_go_port {
    use super::hash_bytes;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Beyond the vectors' lengths: any input, of any length across several frames,
        /// hashes as bloock-poseidon-rs (go-iden3-crypto's HashBytes, ported) does.
        #[test]
        fn any_input_hashes_as_go_iden3_crypto(input in proptest::collection::vec(any::<u8>(), 1..1200)) {
            let theirs = bloock_poseidon_rs::POSEIDON.hash_bytes(&input).unwrap().bytes_be();
            let mut expected = [0u8; 32];
            expected[32 - theirs.len()..].copy_from_slice(&theirs);
            prop_assert_eq!(hash_bytes(&input).unwrap(), expected);
        }
    }
}
