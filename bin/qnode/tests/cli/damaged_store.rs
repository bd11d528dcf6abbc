//! A real node's store, damaged (every page zeroed in turn, seeded single-byte flips), fed
//! to the commands an operator runs: `proofs --verify`, `frames` and a node start. Each
//! either refuses the copy in words that name the file, or shows exactly what the intact
//! store shows; none panics (exit 101) or aborts (a signal).

use crate::common::node::{spawn, start, Node};
use crate::common::{qnode, text};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

const PAGE: usize = 4096;

/// What a read-only command prints for an intact store, to compare damaged copies with.
struct Reads {
    proofs: String,
    verified_proofs: String,
    frames: String,
}

fn reads(dir: &Path) -> Reads {
    let d = dir.to_str().unwrap();
    let ok = |out: Output| {
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    Reads {
        proofs: ok(qnode(&["proofs", "--config-dir", d])),
        verified_proofs: ok(qnode(&["proofs", "--verify", "--config-dir", d])),
        frames: ok(qnode(&["frames", "--config-dir", d])),
    }
}

#[derive(Debug, Default)]
struct Outcomes {
    refused: usize,
    read_whole: usize,
    started: usize,
}

/// How far a copy the tools accept is taken; the full depth takes seconds per copy.
#[derive(Clone, Copy)]
struct Depth {
    /// `proofs --verify` (a KZG check of every increment) rather than `proofs`.
    verify: bool,
    /// Start a node on it and let it prove.
    start_node: bool,
}

/// Exits in words: not a panic, not a signal.
fn assert_clean_exit(out: &Output, what: &str) {
    let stderr = text(&out.stderr);
    assert!(out.status.code().is_some(), "{what}: killed: {stderr}");
    assert_ne!(out.status.code(), Some(101), "{what}: panicked: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
}

fn assert_names_the_store(stderr: &str, dir: &Path, what: &str) {
    let store = dir.join("store.redb").display().to_string();
    assert!(stderr.contains(&store), "{what}: {stderr}");
}

/// Runs the commands on `dir`, whose store is a damaged copy.
fn try_copy(dir: &Path, intact: &Reads, depth: Depth, outcomes: &mut Outcomes) {
    let d = dir.to_str().unwrap();
    let (proofs, expected) = if depth.verify {
        let out = qnode(&["proofs", "--verify", "--config-dir", d]);
        (out, &intact.verified_proofs)
    } else {
        (qnode(&["proofs", "--config-dir", d]), &intact.proofs)
    };
    assert_clean_exit(&proofs, "proofs");
    let frames = qnode(&["frames", "--config-dir", d]);
    assert_clean_exit(&frames, "frames");
    if !proofs.status.success() {
        // The same checks run on every open: a copy one tool refuses, all refuse.
        assert!(!frames.status.success(), "frames read what proofs refused");
        assert_names_the_store(&text(&proofs.stderr), dir, "proofs");
        assert_names_the_store(&text(&frames.stderr), dir, "frames");
        let run = refused_run(dir);
        assert_names_the_store(&run, dir, "run");
        outcomes.refused += 1;
        return;
    }
    assert_eq!(
        &text(&proofs.stdout),
        expected,
        "damaged proofs read as good"
    );
    assert!(frames.status.success(), "frames refused what proofs read");
    let frames = text(&frames.stdout);
    assert_eq!(frames, intact.frames, "damaged frames read as good");
    outcomes.read_whole += 1;
    if depth.start_node {
        let node = spawn(dir, &["--workers", "1", "--worker-base-port", "22100"]);
        node.wait_for_increment(0, Duration::from_secs(120));
        node.terminate(Duration::from_secs(5));
        outcomes.started += 1;
    }
}

/// A node start on a refused store: it must exit, in words; returns its log.
fn refused_run(dir: &Path) -> String {
    let mut node: Node = spawn(dir, &["--workers", "1", "--worker-base-port", "22000"]);
    let status = node.wait_exit(Duration::from_secs(60));
    let status = status.unwrap_or_else(|| panic!("a node started on a refused store"));
    assert!(!status.success());
    assert_ne!(status.code(), Some(101), "run panicked");
    assert!(status.code().is_some(), "run was killed: {status}");
    let log = crate::common::remaining_lines(&node.log, Duration::from_secs(10));
    let log = log.join("\n");
    assert!(!log.contains("panicked"), "{log}");
    log
}

/// A stopped node's directory with some frames and increments, and its reads.
fn stopped_node() -> (tempfile::TempDir, Vec<u8>, Reads) {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), 22_200, 1);
    node.wait_for_increment(8, Duration::from_secs(120));
    node.terminate(Duration::from_secs(5));
    let store = std::fs::read(dir.path().join("store.redb")).unwrap();
    let intact = reads(dir.path());
    (dir, store, intact)
}

fn damaged_copies(original: &[u8], flips: usize) -> Vec<Vec<u8>> {
    let pages = original.len().div_ceil(PAGE);
    let zeroed = (0..pages).filter_map(|page| {
        let mut damaged = original.to_vec();
        let end = ((page + 1) * PAGE).min(damaged.len());
        if damaged[page * PAGE..end].iter().all(|&b| b == 0) {
            return None;
        }
        damaged[page * PAGE..end].fill(0);
        Some(damaged)
    });
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let flipped = (0..flips).map(move |_| {
        let mut damaged = original.to_vec();
        let at = (next() % damaged.len() as u64) as usize;
        damaged[at] ^= 1 + (next() % 255) as u8;
        damaged
    });
    zeroed.chain(flipped).collect()
}

fn diff(a: &[u8], b: &[u8]) -> String {
    let at: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
    format!(
        "{} bytes differ, at {:?}..{:?}",
        at.len(),
        at.first(),
        at.last()
    )
}

/// Damages a real store every way, and takes the first `deep` copies the tools accept to
/// full depth.
fn run_all(flips: usize, deep: usize) {
    let (dir, original, intact) = stopped_node();
    let copies = damaged_copies(&original, flips);
    let mut outcomes = Outcomes::default();
    for (n, damaged) in copies.iter().enumerate() {
        eprintln!("copy {n}: {}", diff(&original, damaged));
        std::fs::write(dir.path().join("store.redb"), damaged).unwrap();
        let full = outcomes.read_whole < deep;
        let depth = Depth {
            verify: full,
            start_node: full,
        };
        try_copy(dir.path(), &intact, depth, &mut outcomes);
    }
    eprintln!(
        "{} pages zeroed or {flips} bytes flipped in a {}-byte store: {outcomes:?}",
        copies.len() - flips,
        original.len()
    );
    assert_eq!(outcomes.refused + outcomes.read_whole, copies.len());
    assert!(outcomes.refused > 0, "no damage was found: {outcomes:?}");
}

#[test]
fn damaged_stores_are_refused_in_words_or_read_whole_by_every_command() {
    run_all(150, 2);
}

/// The full count: every page and 2,000 flips through every command. `proofs
/// --verify` and a node start read the store exactly as `proofs` does and add seconds of
/// proving and KZG checks per copy, so they run on the first 20 copies accepted.
#[test]
#[ignore]
fn two_thousand_flips_through_every_command() {
    run_all(2000, 20);
}

/// `qnode db salvage` on every damaged copy: never a panic or a signal, the damaged store
/// never written; when it makes a new directory, every record there verifies (`proofs
/// --verify` passes) and is the intact chain's, from increment 0 on.
#[test]
fn salvage_keeps_only_what_verifies_of_every_damaged_copy() {
    let (dir, original, intact) = stopped_node();
    let d = dir.path().to_str().unwrap();
    // Every page zeroed, and 20 seeded flips (each copy is salvaged and verified: about
    // two seconds).
    let copies = damaged_copies(&original, 20);
    let (mut salvaged, mut whole) = (0, 0);
    for (n, damaged) in copies.iter().enumerate() {
        std::fs::write(dir.path().join("store.redb"), damaged).unwrap();
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("salvaged");
        let t = target.to_str().unwrap();
        let run = qnode(&["db", "salvage", "--config-dir", d, "--out", t]);
        let what = format!("copy {n} ({})", diff(&original, damaged));
        assert_clean_exit(&run, &what);
        let after = std::fs::read(dir.path().join("store.redb")).unwrap();
        assert!(after == *damaged, "{what}: salvage wrote the damaged store");
        if !run.status.success() {
            // redb could not open the copy at all: said, naming the store.
            assert_names_the_store(&text(&run.stderr), dir.path(), &what);
            continue;
        }
        salvaged += 1;
        let verify = qnode(&["proofs", "--verify", "--config-dir", t]);
        assert!(verify.status.success(), "{what}: {}", text(&verify.stderr));
        let kept = text(&verify.stdout);
        let mut kept_lines: Vec<&str> = kept.lines().collect();
        kept_lines.pop(); // "N increments, reward R"
        let intact_lines: Vec<&str> = intact.verified_proofs.lines().collect();
        assert!(
            intact_lines.starts_with(&kept_lines),
            "{what}: kept {kept}\nintact {}",
            intact.verified_proofs
        );
        if kept == intact.verified_proofs {
            whole += 1;
        }
    }
    eprintln!(
        "{} copies: {salvaged} salvaged, {whole} whole",
        copies.len()
    );
    assert!(
        salvaged > 0 && whole > 0,
        "{salvaged} salvaged, {whole} whole"
    );
}
