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
