//! The original node's outputs from `shared/vectors/vdf.json`, checked byte for byte.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use qnode_test_vectors::{assert_checked_all, cases, raw_cases, unhex};
use qnode_vdf::{challenge_difficulty, challenge_proof, solve, verify, VdfError};

/// How many cases of `vdf.json`'s array `key` the file holds, counted from its JSON.
fn in_file(key: &str) -> usize {
    raw_cases("vdf.json", key).len()
}

#[test]
fn solve_reproduces_the_original_outputs() {
    let mut checked = 0;
    for case in qnode_test_vectors::vdf().solve {
        let challenge = unhex(&case.challenge);
        let out = solve(&challenge, case.difficulty).unwrap();
        assert_eq!(
            hex::encode(out),
            case.output,
            "challenge {} difficulty {}",
            case.challenge,
            case.difficulty
        );
        assert_eq!(verify(&challenge, case.difficulty, &out), Ok(()));
        checked += 1;
    }
    assert_checked_all("solve", checked, in_file("solve"), cases::SOLVE);
}

#[test]
fn verify_rejects_every_invalid_case_without_panicking() {
    let mut checked = 0;
    for case in qnode_test_vectors::vdf().verify_invalid {
        let result = verify(
            &unhex(&case.challenge),
            case.difficulty,
            &unhex(&case.proof),
        );
        assert!(result.is_err(), "{} accepted", case.kind);
        if case.kind == "truncated" || case.kind == "extended" {
            assert!(
                matches!(result, Err(VdfError::Length { .. })),
                "{}",
                case.kind
            );
        }
        checked += 1;
    }
    assert_checked_all(
        "verify_invalid",
        checked,
        in_file("verify_invalid"),
        cases::VERIFY_INVALID,
    );
}

/// Checks the challenge proofs below 100000 squarings (`fast`) or the others, and that
/// it checked every such case the file holds.
fn check_challenge_proofs(fast: bool) {
    let mut checked = 0;
    for case in qnode_test_vectors::vdf()
        .challenge_proof
        .into_iter()
        .filter(|c| (c.difficulty < 100_000) == fast)
    {
        assert_eq!(challenge_difficulty(case.increment), case.difficulty);
        let out = challenge_proof(&unhex(&case.challenge), case.core, case.increment).unwrap();
        assert_eq!(
            hex::encode(out),
            case.output,
            "core {} increment {}",
            case.core,
            case.increment
        );
        checked += 1;
    }
    let in_file = raw_cases("vdf.json", "challenge_proof")
        .iter()
        .filter(|c| (c["difficulty"].as_u64().unwrap() < 100_000) == fast)
        .count();
    let (what, known) = if fast {
        ("challenge_proof below 100000", cases::CHALLENGE_PROOF_FAST)
    } else {
        (
            "challenge_proof at real difficulty",
            cases::CHALLENGE_PROOF_SLOW,
        )
    };
    assert_checked_all(what, checked, in_file, known);
}

#[test]
fn challenge_proofs_match_the_data_worker() {
    check_challenge_proofs(true);
}

/// The real-difficulty cases (100000 and 200000 squarings): `cargo test --release -- --ignored`.
#[test]
#[ignore = "real difficulty: run in release with --ignored"]
fn challenge_proofs_at_real_difficulty_match_the_data_worker() {
    check_challenge_proofs(false);
}

// The frame chain's outputs are reproduced and validated through the frame rules in
// `crates/protocol/tests/frame_chain_vectors.rs`.
