//! Test support only: loads the original node's outputs from `shared/vectors/`, which sits
//! beside the checkout (`$QNODE_VECTORS` overrides the directory), and what this project
//! recorded from running original nodes, kept in this crate's `recorded/` (see its
//! README). A missing file fails the test loudly rather than skipping it.

use serde::de::DeserializeOwned;
use std::path::PathBuf;

/// The vectors directory: `$QNODE_VECTORS`, or `../shared/vectors` beside the checkout.
pub fn dir() -> PathBuf {
    std::env::var_os("QNODE_VECTORS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"),
        PathBuf::from,
    )
}

/// Parses `file` (e.g. `vdf.json`) from the vectors directory into `T`.
///
/// # Panics
/// When the file is missing or does not parse: the test cannot run without it.
pub fn load<T: DeserializeOwned>(file: &str) -> T {
    let path = dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (set QNODE_VECTORS to the vectors directory)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses `file` from `recorded/`: bytes, keys and signatures recorded from running
/// original nodes (see `recorded/README.md`).
///
/// # Panics
/// When the file is missing or does not parse into `T`.
pub fn recorded<T: DeserializeOwned>(file: &str) -> T {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("recorded")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `Sync` exchange of `recorded/validation.json`: a behind node's request and the
/// original server's answers on that one stream, as bytes.
pub struct RecordedSync {
    /// The `SyncRequest`.
    pub request: Vec<u8>,
    /// Each `SyncResponse`, in the order the server sent them.
    pub responses: Vec<Vec<u8>>,
}

/// Reads [`RecordedSync`].
///
/// # Panics
/// When the file is missing or malformed.
pub fn recorded_sync() -> RecordedSync {
    #[derive(serde::Deserialize)]
    struct File {
        sync: Exchange,
    }
    #[derive(serde::Deserialize)]
    struct Exchange {
        request: String,
        responses: Vec<String>,
    }
    let file: File = recorded("validation.json");
    RecordedSync {
        request: unhex(&file.sync.request),
        responses: file.sync.responses.iter().map(|r| unhex(r)).collect(),
    }
}

/// `recorded/perform_validation.pb`: the original's 1 MiB bandwidth-test message.
///
/// # Panics
/// When the file is missing.
pub fn recorded_perform_validation() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("recorded/perform_validation.pb");
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Decodes a hex string from a vector.
///
/// # Panics
/// On malformed hex in the vector file.
pub fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex in vector ({e}): {s}"))
}

/// `vdf.json`.
pub fn vdf() -> schema::Vdf {
    load("vdf.json")
}

/// `poseidon.json`.
pub fn poseidon() -> schema::Poseidon {
    load("poseidon.json")
}

/// The entries of the top-level array `key` of `file`, read as plain JSON rather than
/// through [`schema`]: counting them tells how many cases the file holds even if the
/// schema stopped reading them.
///
/// # Panics
/// When the file cannot be read or has no array `key`.
pub fn raw_cases(file: &str, key: &str) -> Vec<serde_json::Value> {
    let mut value: serde_json::Value = load(file);
    match value.get_mut(key).map(serde_json::Value::take) {
        Some(serde_json::Value::Array(cases)) => cases,
        _ => panic!("{file} has no array `{key}`"),
    }
}

/// The frames of every chain in `vdf.json` → `frame_chain`, genesis included, counted
/// from the plain JSON like [`raw_cases`].
///
/// # Panics
/// When a chain has no array `frames`.
pub fn raw_frame_count() -> usize {
    raw_cases("vdf.json", "frame_chain")
        .iter()
        .map(|chain| match chain.get("frames") {
            Some(serde_json::Value::Array(frames)) => frames.len(),
            _ => panic!("vdf.json: a frame chain has no array `frames`"),
        })
        .sum()
}

/// Asserts that a test checked every case it reads: `checked`, counted by the test as it
/// checked them, equals `in_file`, counted from the file (see [`raw_cases`]), and both
/// equal `known`, the count in [`cases`]. A test that silently checked nothing, or a file
/// that lost cases, fails here.
///
/// # Panics
/// When the three counts differ, or `known` is 0.
#[track_caller]
pub fn assert_checked_all(what: &str, checked: usize, in_file: usize, known: usize) {
    assert!(
        known > 0,
        "{what}: a vector test must check at least one case"
    );
    assert_eq!(
        in_file, known,
        "{what}: the file holds {in_file} cases, not the {known} it held when the tests \
         were written (update `qnode_test_vectors::cases` if the vectors changed)"
    );
    assert_eq!(
        checked, in_file,
        "{what}: the test checked {checked} of the file's {in_file} cases"
    );
}

/// How many cases each vector file held when it was last inspected.
pub mod cases {
    /// `vdf.json` → `solve`.
    pub const SOLVE: usize = 17;
    /// `vdf.json` → `verify_invalid`.
    pub const VERIFY_INVALID: usize = 14;
    /// `vdf.json` → `challenge_proof` with difficulty below 100000 (the fast ones).
    pub const CHALLENGE_PROOF_FAST: usize = 3;
    /// `vdf.json` → `challenge_proof` at real difficulty (100000 and 200000).
    pub const CHALLENGE_PROOF_SLOW: usize = 2;
    /// `vdf.json` → `frame_chain`: chains.
    pub const FRAME_CHAINS: usize = 2;
    /// `vdf.json` → `frame_chain`: frames over all chains, genesis included (5 + 4).
    pub const FRAMES: usize = 9;
    /// `poseidon.json` → `hash_bytes`.
    pub const HASH_BYTES: usize = 18;
}

/// The vector files' layouts (`shared/vectors/README.md`).
pub mod schema {
    use serde::{Deserialize, Serialize};

    /// `vdf.json`.
    #[derive(Deserialize)]
    pub struct Vdf {
        /// Outputs of `solve`.
        pub solve: Vec<Solve>,
        /// Outputs that must be rejected.
        pub verify_invalid: Vec<Invalid>,
        /// The data worker's computation.
        pub challenge_proof: Vec<ChallengeProof>,
        /// Genesis and the frames after it.
        pub frame_chain: Vec<FrameChain>,
    }

    /// One `solve` case.
    #[derive(Deserialize)]
    pub struct Solve {
        /// Hex.
        pub challenge: String,
        /// Squarings.
        pub difficulty: u32,
        /// The 516-byte output, hex.
        pub output: String,
    }

    /// One output that must not verify.
    #[derive(Deserialize)]
    pub struct Invalid {
        /// Hex.
        pub challenge: String,
        /// Squarings.
        pub difficulty: u32,
        /// The bytes to reject, hex.
        pub proof: String,
        /// How they were made (`flip_y`, `truncated`, …).
        pub kind: String,
    }

    /// One data-worker challenge proof.
    #[derive(Deserialize)]
    pub struct ChallengeProof {
        /// Hex.
        pub challenge: String,
        /// Worker core.
        pub core: u32,
        /// Proof-loop increment.
        pub increment: u32,
        /// The difficulty the increment implies.
        pub difficulty: u32,
        /// The 516-byte output, hex.
        pub output: String,
    }

    /// A chain of master clock frames.
    #[derive(Deserialize)]
    pub struct FrameChain {
        /// Genesis seed, hex.
        pub seed: String,
        /// Filter, hex.
        pub filter: String,
        /// Difficulty of every frame.
        pub difficulty: u32,
        /// Frames after genesis.
        pub count: usize,
        /// Genesis first.
        pub frames: Vec<Frame>,
    }

    /// A frame's fields as the original's `ClockFrame` holds them (and as `qnode frame
    /// chain` prints them: no other fields).
    #[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Frame {
        /// Number.
        pub frame_number: u64,
        /// Difficulty.
        pub difficulty: u32,
        /// The parent's output, hex.
        pub input: String,
        /// This frame's VDF output, hex.
        pub output: String,
        /// Poseidon of the parent's output, hex.
        pub parent_selector: String,
    }

    /// `poseidon.json`.
    #[derive(Deserialize)]
    pub struct Poseidon {
        /// `HashBytes` cases.
        pub hash_bytes: Vec<HashCase>,
    }

    /// One `HashBytes(input)`.
    #[derive(Deserialize)]
    pub struct HashCase {
        /// Hex.
        pub input: String,
        /// 32 bytes, hex.
        pub output: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_reads_every_case_the_files_hold() {
        let v = vdf();
        let in_vdf = |key| raw_cases("vdf.json", key).len();
        assert_checked_all("solve", v.solve.len(), in_vdf("solve"), cases::SOLVE);
        assert_checked_all(
            "verify_invalid",
            v.verify_invalid.len(),
            in_vdf("verify_invalid"),
            cases::VERIFY_INVALID,
        );
        assert_checked_all(
            "challenge_proof",
            v.challenge_proof.len(),
            in_vdf("challenge_proof"),
            cases::CHALLENGE_PROOF_FAST + cases::CHALLENGE_PROOF_SLOW,
        );
        assert_checked_all(
            "frame_chain",
            v.frame_chain.len(),
            in_vdf("frame_chain"),
            cases::FRAME_CHAINS,
        );
        let frames = v.frame_chain.iter().map(|c| c.frames.len()).sum();
        assert_checked_all("frames", frames, raw_frame_count(), cases::FRAMES);
        assert_checked_all(
            "hash_bytes",
            poseidon().hash_bytes.len(),
            raw_cases("poseidon.json", "hash_bytes").len(),
            cases::HASH_BYTES,
        );
    }

    #[test]
    #[should_panic(expected = "checked 0 of the file's 18 cases")]
    fn checking_no_case_fails() {
        let in_file = raw_cases("poseidon.json", "hash_bytes").len();
        assert_checked_all("hash_bytes", 0, in_file, cases::HASH_BYTES);
    }

    #[test]
    #[should_panic(expected = "has no array `nothing`")]
    fn a_missing_array_fails() {
        raw_cases("vdf.json", "nothing");
    }
}
