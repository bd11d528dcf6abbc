//! A `qnode run --devnet` process whose log lines and increments the test reads.

use super::signal;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A running node and the increments it logs.
pub struct Node {
    pub child: Child,
    pub increments: Receiver<u32>,
    pub log: Receiver<String>,
}

/// A devnet node with `workers` local workers on ports from `base_port`.
pub fn start(config: &Path, base_port: u16, workers: u32) -> Node {
    let (workers, base_port) = (workers.to_string(), base_port.to_string());
    spawn(
        config,
        &["--workers", &workers, "--worker-base-port", &base_port],
    )
}

/// `qnode run --devnet … EXTRA`, its log lines and increments collected. Workers time out
/// after 20 s unless EXTRA says otherwise.
pub fn spawn(config: &Path, extra: &[&str]) -> Node {
    spawn_with_env(config, extra, &[])
}

/// [`spawn`] with these environment variables set.
pub fn spawn_with_env(config: &Path, extra: &[&str], env: &[(&str, &str)]) -> Node {
    let timeout = if extra.contains(&"--worker-timeout-secs") {
        &[][..]
    } else {
        &["--worker-timeout-secs", "20"][..]
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_qnode"))
        .args([
            "run",
            "--devnet",
            "--devnet-setup-powers",
            "128",
            "--config-dir",
        ])
        .arg(config)
        .args(extra)
        .args(["--frame-interval-ms", "1000"])
        .args(timeout)
        // Any free port: these nodes run alone, and tests run side by side.
        .args([
            "--listen",
            "/ip4/127.0.0.1/tcp/0",
            "--min-increment-ms",
            "0",
        ])
        .env("QNODE_LOG", "info")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (inc_tx, increments) = mpsc::channel();
    let (log_tx, log) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("increment proved") {
                if let Some(n) = field(&line, "increment=") {
                    let _ = inc_tx.send(n);
                }
            }
            let _ = log_tx.send(line);
        }
    });
    Node {
        child,
        increments,
        log,
    }
}

fn field(line: &str, key: &str) -> Option<u32> {
    let plain: String = line.chars().filter(|c| !c.is_control()).collect();
    let at = plain.find(key)? + key.len();
    let digits: String = plain[at..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

impl Node {
    /// Waits until the node has proved increment `n`; returns the increment that got there.
    pub fn wait_for_increment(&self, n: u32, timeout: Duration) -> u32 {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.increments.recv_timeout(Duration::from_millis(200)) {
                Ok(i) if i >= n => return i,
                Ok(_) | Err(RecvTimeoutError::Timeout) => {}
                // The log closed: the node exited. Say why rather than wait out the time.
                Err(RecvTimeoutError::Disconnected) => {
                    let log: Vec<String> = self.log.try_iter().collect();
                    let tail = log[log.len().saturating_sub(20)..].join("\n");
                    panic!("the node exited before increment {n}; its last lines:\n{tail}");
                }
            }
        }
        panic!("increment {n} not reached within {timeout:?}");
    }

    pub fn log_contains(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(line) = self.log.recv_timeout(Duration::from_millis(200)) {
                if line.contains(needle) {
                    return true;
                }
            }
        }
        false
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, once the node exits within `within`.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then wait (bounded) for exit.
    pub fn terminate(mut self, within: Duration) {
        signal("TERM", self.pid());
        if self.wait_exit(within).is_none() {
            panic!("node did not stop within {within:?} of SIGTERM");
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
