//! Test support only: loads the original node's outputs from `shared/vectors/`, which sits
//! beside the checkout (`$QNODE_VECTORS` overrides the directory). A missing file fails
//! the test loudly rather than skipping it.

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
