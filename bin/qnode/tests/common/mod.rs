//! Helpers shared by the command-line tests: run `qnode` as a real process.

#![allow(dead_code)] // each test binary uses its own subset

use std::process::{Command, Output};

/// Runs `qnode ARGS…` to completion.
pub fn qnode(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qnode"))
        .args(args)
        .output()
        .expect("qnode runs")
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
