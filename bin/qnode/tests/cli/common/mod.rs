//! Helpers shared by the command-line tests: run `qnode` as a real process.

pub mod http;
pub mod node;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `qnode ARGS…` to completion.
pub fn qnode(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qnode"))
        .args(args)
        .output()
        .expect("qnode runs")
}

/// The `frame_number`s of `qnode frames --json`'s lines (which must have succeeded).
pub fn listed_frame_numbers(out: &Output) -> Vec<u64> {
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|l| {
            let frame: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            frame["frame_number"].as_u64().expect("a frame number")
        })
        .collect()
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

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Held for a test's whole run, so that tests of one binary which time a node, or load
/// the machine with several, do not run beside each other (cargo runs a binary's tests
/// in parallel): a three-node devnet on two cores slowed a lone node's clock to under
/// half the rate its own timings allow.
pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    // A test that failed while holding it leaves nothing behind that the next one needs.
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// A pace that does not depend on how fast this machine is at the moment (the one
/// `qnode sim` uses), for the tests whose subject is not pacing: a devnet that times a
/// slow machine slows its pace as well as its work, which would stretch every deadline
/// twice over.
pub fn fixed_pace(nodes: u16) -> [String; 6] {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    qnode_sim::pace::Pace::for_simulation(usize::from(nodes), cores).args()
}

/// The lines of `pipe` (a child's stdout or stderr), read on a thread of their own so the
/// child never blocks on a full pipe; reading goes on after the receiver is dropped.
pub fn lines_of(pipe: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    lines
}

/// The lines a reader thread still sends until its pipe closes, bounded by `within`: a
/// process that has exited may not have had its last lines read yet.
pub fn remaining_lines(lines: &std::sync::mpsc::Receiver<String>, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    // Ends when the pipe closed (the reader dropped its sender) or time is up.
    while let Ok(line) = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        out.push(line);
    }
    out
}

/// A new temporary directory holding a copy of every regular file in `template` (a
/// stopped node's directory: key, store, setup, self-test).
pub fn copy_of(template: &std::path::Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(template).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
        }
    }
    copy
}

/// Sends signal `name` (`TERM`, `KILL`, …) to `pid`; a process already gone is fine.
pub fn signal(name: &str, pid: u32) {
    let _ = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status();
}

/// A running `qnode` process, stopped (SIGTERM, then SIGKILL after 15 s) when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        // SIGTERM first: a devnet stops its nodes (which would also stop by themselves
        // once it is gone).
        signal("TERM", self.0.id());
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline && matches!(self.0.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `qnode ARGS` with its output discarded.
pub fn quiet(configure: impl FnOnce(&mut Command) -> &mut Command) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qnode"));
    configure(&mut command)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Process(command.spawn().expect("qnode starts"))
}

/// Processes whose command line mentions `needle`.
pub fn processes_mentioning(needle: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(needle) {
            pids.push(pid);
        }
    }
    pids
}
