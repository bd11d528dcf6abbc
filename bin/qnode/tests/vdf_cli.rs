//! The `qnode vdf` command-line contract, run as a real process.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use serde::Deserialize;
use std::path::PathBuf;
use std::process::{Command, Output};

#[derive(Deserialize)]
struct Vectors {
    solve: Vec<Solve>,
    challenge_proof: Vec<ChallengeProof>,
}

#[derive(Deserialize)]
struct Solve {
    challenge: String,
    difficulty: u32,
    output: String,
}

#[derive(Deserialize)]
struct ChallengeProof {
    challenge: String,
    core: u32,
    increment: u32,
    difficulty: u32,
    output: String,
}

fn vectors() -> Vectors {
    let dir = std::env::var_os("QNODE_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
        PathBuf::from,
    );
    let path = dir.join("vdf.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e} (set QNODE_VECTORS)", path.display()));
    serde_json::from_str(&text).expect("vdf.json parses")
}

fn qnode(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qnode"))
        .args(args)
        .output()
        .expect("qnode runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

#[test]
fn solve_prints_the_original_output_as_lowercase_hex() {
    let v = vectors();
    let case = v
        .solve
        .iter()
        .find(|c| c.difficulty == 100)
        .expect("a t=100 case");
    let diff = case.difficulty.to_string();
    let out = qnode(&[
        "vdf",
        "solve",
        "--challenge",
        &case.challenge,
        "--difficulty",
        &diff,
    ]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), format!("{}\n", case.output));
}

#[test]
fn verify_exit_codes_follow_the_contract() {
    let v = vectors();
    let case = &v.solve[0];
    let diff = case.difficulty.to_string();
    let ok = qnode(&[
        "vdf",
        "verify",
        "--challenge",
        &case.challenge,
        "--difficulty",
        &diff,
        "--proof",
        &case.output,
    ]);
    assert_eq!(
        (ok.status.code(), stdout(&ok).as_str()),
        (Some(0), "valid\n")
    );

    let mut flipped = case.output.clone().into_bytes();
    flipped[600] = if flipped[600] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    let bad = qnode(&[
        "vdf",
        "verify",
        "--challenge",
        &case.challenge,
        "--difficulty",
        &diff,
        "--proof",
        &flipped,
    ]);
    assert_eq!(
        (bad.status.code(), stdout(&bad).as_str()),
        (Some(1), "invalid\n")
    );

    let short = qnode(&[
        "vdf",
        "verify",
        "--challenge",
        &case.challenge,
        "--difficulty",
        &diff,
        "--proof",
        "00",
    ]);
    assert_eq!(
        (short.status.code(), stdout(&short).as_str()),
        (Some(1), "invalid\n")
    );

    for malformed in [
        vec![
            "vdf",
            "verify",
            "--challenge",
            "zz",
            "--difficulty",
            "5",
            "--proof",
            "00",
        ],
        vec![
            "vdf",
            "verify",
            "--challenge",
            "aa",
            "--difficulty",
            "0",
            "--proof",
            "00",
        ],
        vec![
            "vdf",
            "verify",
            "--challenge",
            "aa",
            "--difficulty",
            "-1",
            "--proof",
            "00",
        ],
        vec![
            "vdf",
            "verify",
            "--challenge",
            "aa",
            "--difficulty",
            "5",
            "--proof",
            "abc",
        ],
        vec!["vdf", "verify", "--challenge", "aa", "--difficulty", "5"],
    ] {
        let out = qnode(&malformed);
        assert_eq!(out.status.code(), Some(2), "{malformed:?}");
        assert!(!out.stderr.is_empty(), "{malformed:?} says why");
    }
}

#[test]
fn challenge_proof_matches_the_data_worker() {
    let v = vectors();
    let case = v
        .challenge_proof
        .iter()
        .min_by_key(|c| c.difficulty)
        .expect("a case");
    let (core, inc) = (case.core.to_string(), case.increment.to_string());
    let out = qnode(&[
        "vdf",
        "challenge-proof",
        "--challenge",
        &case.challenge,
        "--core",
        &core,
        "--increment",
        &inc,
    ]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), format!("{}\n", case.output));
}
