//! Helpers shared by the command-line tests: run `qnode` as a real process.

#![allow(dead_code)] // each test binary uses its own subset

use std::process::{Command, Output};
use std::time::{Duration, Instant};

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

/// Polls `check` every 250 ms until it gives a value; panics naming `what` after `within`.
pub fn wait_for<T>(within: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Sends signal `name` (`TERM`, `KILL`, …) to `pid`; a process already gone is fine.
pub fn signal(name: &str, pid: u32) {
    let _ = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status();
}
