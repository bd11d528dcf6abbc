//! `qnode hash`, `qnode frame chain` and `qnode frames`, run as real processes.

use crate::common::{listed_frame_numbers, qnode, text};
use qnode_test_vectors::schema::Frame;
use std::path::Path;

#[test]
fn hash_poseidon_prints_the_original_hash() {
    let v = qnode_test_vectors::poseidon();
    // The CLI is a thin wrapper over the Poseidon the vector tests check in full; four
    // cases show it prints the same. Slicing fails loudly on a file with fewer.
    for case in &v.hash_bytes[..4] {
        let out = qnode(&["hash", "poseidon", "--input", &case.input]);
        assert!(out.status.success());
        assert_eq!(text(&out.stdout), format!("{}\n", case.output));
    }
    let empty = qnode(&["hash", "poseidon", "--input", ""]);
    assert!(!empty.status.success());
    assert!(text(&empty.stderr).contains("empty"));
}

#[test]
fn frame_chain_prints_the_original_frames_as_json_lines() {
    let v = qnode_test_vectors::vdf();
    let chain = v
        .frame_chain
        .iter()
        .min_by_key(|c| c.difficulty)
        .expect("a chain");
    let (difficulty, count) = (chain.difficulty.to_string(), chain.count.to_string());
    let out = qnode(&[
        "frame",
        "chain",
        "--seed",
        &chain.seed,
        "--difficulty",
        &difficulty,
        "--count",
        &count,
        "--filter",
        &chain.filter,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<Frame> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines, chain.frames);
}

fn store_with_frames(dir: &Path, count: u64) -> Vec<qnode_protocol::pb::clock::ClockFrame> {
    use qnode_protocol::frame;
    let store = qnode_store::Store::open_in(dir).unwrap();
    let mut frames = vec![frame::genesis(&frame::DEFAULT_FILTER, b"cli", 2).unwrap()];
    for _ in 0..count {
        let next = frame::prove_next(frames.last().unwrap(), 5, 2).unwrap();
        frames.push(next);
    }
    for f in &frames {
        store.append_frame(f).unwrap();
    }
    frames
}

#[test]
fn frames_lists_what_the_store_holds() {
    let dir = tempfile::tempdir().unwrap();
    let frames = store_with_frames(dir.path(), 4);
    let config = dir.path().to_str().unwrap();
    let out = qnode(&[
        "frames",
        "--config-dir",
        config,
        "--from",
        "1",
        "--to",
        "3",
        "--json",
    ]);
    assert_eq!(listed_frame_numbers(&out), [1, 2, 3]);
    let table = qnode(&["frames", "--config-dir", config]);
    assert!(table.status.success());
    let table = text(&table.stdout);
    assert_eq!(table.lines().count(), 1 + frames.len() + 1, "{table}");
    assert!(table.ends_with("head: 4\n"), "{table}");
}

#[test]
fn a_corrupt_store_is_reported_with_what_to_do_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    store_with_frames(dir.path(), 2);
    let path = dir.path().join(qnode_store::STORE_FILE);
    let good = std::fs::read(&path).unwrap();
    let config = dir.path().to_str().unwrap();
    for broken in [b"garbage".repeat(500), good[..good.len() / 3].to_vec()] {
        std::fs::write(&path, &broken).unwrap();
        let out = qnode(&["frames", "--config-dir", config]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("store {} is corrupt", path.display())),
            "{stderr}"
        );
        assert!(stderr.contains("left the file untouched"), "{stderr}");
        // What to do: a backup, the salvage (a proof chain cannot be resynced), or a resync.
        assert!(stderr.contains("qnode db salvage --config-dir"), "{stderr}");
        assert!(stderr.contains("move it aside"), "{stderr}");
        assert_eq!(std::fs::read(&path).unwrap(), broken, "file modified");
    }
}

#[test]
fn a_missing_store_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = qnode(&["frames", "--config-dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no store at"));
    assert!(
        !dir.path().join(qnode_store::STORE_FILE).exists(),
        "nothing created"
    );
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    // `qnode frame chain … | head -1`: many lines, of which the reader takes one.
    let mut chain = Command::new(env!("CARGO_BIN_EXE_qnode"))
        .args(["frame", "chain", "--seed", "00", "--difficulty", "10"])
        .args(["--count", "100000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(chain.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("\"frame_number\""), "{first}");
    // The reader is gone; the next line the command writes meets a closed pipe.
    let out = chain.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert_eq!(text(&out.stderr), "", "nothing on stderr, no panic");
}
