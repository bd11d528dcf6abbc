//! Start-up as an operator meets it: SIGTERM or SIGINT at any stage stops the node within
//! 2 s and leaves a directory that checks clean, and a start refused by one of its checks
//! writes nothing at all.

use crate::common::node::{spawn, start};
use crate::common::{qnode, signal, text};
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

/// Each stage of a fresh devnet node's start, by the log line that opens it.
const STAGES: [&str; 10] = [
    "DEVNET difficulty",         // before the store and key checks
    "starting peer_id",          // ports bound, the key chosen
    "generating a LOCAL",        // the devnet setup being made
    "verifying the KZG setup",   // and checked
    "proving the genesis frame", // the store open, the reel starting
    "running the self-test",
    "listening address",     // the network up
    "data worker listening", // workers starting
    "proof loop starting",
    "increment proved", // running
];

/// What start-up may leave behind only while it runs.
const TEMPORARY: [&str; 4] = [".partial", ".creating", ".tmp", ".before-recovery"];

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| TEMPORARY.iter().any(|t| name.contains(t)))
        .collect()
}

#[test]
fn a_signal_at_any_stage_of_start_up_stops_the_node_within_two_seconds() {
    let mut took = Vec::new();
    for (i, stage) in STAGES.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let port = (21_700 + 10 * i).to_string();
        let mut node = spawn(dir.path(), &["--workers", "1", "--worker-base-port", &port]);
        assert!(
            node.log_contains(stage, Duration::from_secs(120)),
            "stage {stage:?} never logged"
        );
        let name = if i % 2 == 0 { "TERM" } else { "INT" };
        signal(name, node.pid());
        let sent = Instant::now();
        let status = node.wait_exit(Duration::from_secs(10));
        let elapsed = sent.elapsed();
        let status = status.unwrap_or_else(|| panic!("SIG{name} at {stage:?}: still running"));
        assert!(
            elapsed <= Duration::from_secs(2),
            "SIG{name} at {stage:?}: stopped after {elapsed:?}"
        );
        assert!(status.success(), "SIG{name} at {stage:?}: {status}");
        assert_eq!(leftovers(dir.path()), Vec::<String>::new(), "at {stage:?}");
        if dir.path().join("store.redb").exists() {
            let d = dir.path().to_str().unwrap();
            let check = qnode(&["db", "check", "--config-dir", d]);
            assert!(
                check.status.success(),
                "store after SIG{name} at {stage:?}: {}",
                text(&check.stderr)
            );
        }
        took.push(format!("{stage}: {elapsed:.2?}"));
    }
    eprintln!("stopped after: {}", took.join(", "));
}

/// A file's bytes and modification time, or nothing when it is missing.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>, std::time::SystemTime)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let modified = std::fs::metadata(&p).unwrap().modified().unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap(), modified)
        })
        .collect();
    files.sort();
    files
}

/// `qnode run --devnet` in `dir` with one of its endpoints on a port that is taken.
fn refused_start(dir: &Path, taken: &str) -> String {
    let d = dir.to_str().unwrap();
    let base = [
        "run",
        "--devnet",
        "--devnet-setup-powers",
        "128",
        "--workers",
        "1",
        "--worker-base-port",
        "21900",
        "--config-dir",
        d,
    ];
    let endpoint: [&str; 2] = match taken.split_once('=') {
        Some((option, value)) => [option, value],
        None => unreachable!("{taken}"),
    };
    // Not the default p2p port (another test's node may hold it) unless that is the test.
    let p2p: &[&str] = match endpoint[0] {
        "--listen" => &[],
        _ => &["--listen", "/ip4/127.0.0.1/tcp/0"],
    };
    let out = qnode(&[&base[..], p2p, &endpoint].concat());
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{taken}: started: {stderr}");
    assert_ne!(out.status.code(), Some(101), "{taken}: panicked: {stderr}");
    stderr
}

#[test]
fn a_start_refused_by_a_check_writes_nothing() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let endpoints = [
        format!("--listen=/ip4/127.0.0.1/tcp/{port}"),
        format!("--http-listen=127.0.0.1:{port}"),
        format!("--grpc-listen=127.0.0.1:{port}"),
    ];

    // A new directory stays empty.
    for endpoint in &endpoints {
        let fresh = tempfile::tempdir().unwrap();
        let stderr = refused_start(fresh.path(), endpoint);
        assert!(stderr.contains(&port.to_string()), "{endpoint}: {stderr}");
        assert_eq!(snapshot(fresh.path()), Vec::new(), "{endpoint}: wrote");
    }

    // A stopped node's directory is left exactly as it was.
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), 21_950, 1);
    node.wait_for_increment(2, Duration::from_secs(120));
    node.terminate(Duration::from_secs(5));
    let before = snapshot(dir.path());
    for endpoint in &endpoints {
        refused_start(dir.path(), endpoint);
        assert!(snapshot(dir.path()) == before, "{endpoint}: changed files");
    }
}

/// Makes `dir/name` a named pipe: whoever opens it for reading blocks until a writer comes.
fn fifo(dir: &Path, name: &str) {
    let made = std::process::Command::new("mkfifo")
        .arg(dir.join(name))
        .status()
        .unwrap();
    assert!(made.success());
}

#[test]
fn odd_files_in_the_directory_are_refused_in_words_never_waited_on() {
    let refusals = [
        ("node-key", "named pipe (FIFO)"),
        ("kzg-setup.pot", "named pipe (FIFO)"),
        ("store.redb", "not a regular file"),
    ];
    for (name, words) in refusals {
        let dir = tempfile::tempdir().unwrap();
        fifo(dir.path(), name);
        let mut node = spawn(
            dir.path(),
            &["--workers", "1", "--worker-base-port", "21980"],
        );
        let status = node.wait_exit(Duration::from_secs(60));
        let status = status.unwrap_or_else(|| panic!("{name} as a FIFO: the start hangs"));
        let log = crate::common::remaining_lines(&node.log, Duration::from_secs(10));
        let log = log.join("\n");
        assert!(!status.success(), "{name} as a FIFO: started");
        assert!(log.contains(name) && log.contains(words), "{name}: {log}");
    }
    // A self-test report that cannot be read is no report: the test runs again.
    let dir = tempfile::tempdir().unwrap();
    fifo(dir.path(), "self-test.json");
    let node = spawn(
        dir.path(),
        &["--workers", "1", "--worker-base-port", "21990"],
    );
    assert!(node.log_contains("running the self-test", Duration::from_secs(120)));
    // Its new report replaces the FIFO rather than wait on it.
    node.wait_for_increment(0, Duration::from_secs(120));
    node.terminate(Duration::from_secs(5));
    assert!(dir.path().join("self-test.json").is_file());
}
