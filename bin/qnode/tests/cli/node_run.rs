//! `qnode run` as a real process with real worker processes at devnet difficulty: the
//! chain grows and verifies, survives worker deaths and SIGKILLs of the node, and SIGTERM
//! stops everything.

use crate::common::node::{spawn, start};
use crate::common::signal;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid …; comm may contain spaces, so split after the last ')'.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        if after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok())
            == Some(pid)
        {
            out.push(child);
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

/// Waits until every one of `pids` has exited (or is a zombie); false after `within`.
fn all_exit(pids: &[u32], within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while pids.iter().any(|p| alive(*p)) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// The nice value of each of `pid`'s threads.
fn thread_niceness(pid: u32) -> Vec<i32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    tasks
        .flatten()
        .filter_map(|task| {
            let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
            // After the comm's ')' come stat(5)'s fields from the 3rd on; nice is the 19th.
            let (_, fields) = stat.rsplit_once(')')?;
            fields.split_whitespace().nth(16)?.parse().ok()
        })
        .collect()
}

fn verified_increments(config: &Path) -> Vec<u32> {
    let out = Command::new(env!("CARGO_BIN_EXE_qnode"))
        .args(["proofs", "--verify", "--json", "--config-dir"])
        .arg(config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "proofs --verify failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["verified"], true, "{l}");
            v["increment"].as_u64().unwrap() as u32
        })
        .collect()
}

fn assert_consecutive(increments: &[u32]) {
    for (i, n) in increments.iter().enumerate() {
        assert_eq!(
            *n as usize, i,
            "increments are 0, 1, 2, … with no gap or repeat"
        );
    }
}

#[test]
fn the_chain_grows_verifies_and_sigterm_stops_everything() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), 21_100, 2);
    node.wait_for_increment(22, Duration::from_secs(240));
    let workers = children_of(node.pid());
    assert_eq!(workers.len(), 2, "one process per worker");
    // Workers run niced as a whole, below the node's networking threads.
    let node_niceness = *thread_niceness(node.pid()).iter().min().unwrap();
    for w in &workers {
        let niceness = thread_niceness(*w);
        assert!(!niceness.is_empty());
        assert!(
            niceness.iter().all(|n| *n == (node_niceness + 10).min(19)),
            "worker {w}: {niceness:?}, node {node_niceness}"
        );
    }
    node.terminate(Duration::from_secs(5));
    assert!(
        all_exit(&workers, Duration::from_secs(10)),
        "a worker outlived the node"
    );
    let chain = verified_increments(dir.path());
    assert!(chain.len() >= 21, "{} increments stored", chain.len());
    assert_consecutive(&chain);
}

#[test]
fn a_hung_worker_is_restarted_and_the_chain_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let node = spawn(
        dir.path(),
        &[
            "--workers",
            "2",
            "--worker-base-port",
            "21250",
            // Short enough to notice the hang soon, long enough that a worker merely slowed
            // by a loaded machine is not taken for hung.
            "--worker-timeout-secs",
            "10",
        ],
    );
    node.wait_for_increment(2, Duration::from_secs(240));
    let workers = children_of(node.pid());
    assert_eq!(workers.len(), 2);
    // Stopped, not dead: it keeps its port and accepts calls it never answers.
    signal("STOP", workers[0]);
    assert!(
        node.log_contains("worker hung; restarting it", Duration::from_secs(30)),
        "hang noticed"
    );
    assert!(
        node.log_contains("data worker restarted", Duration::from_secs(30)),
        "restart logged"
    );
    assert!(!alive(workers[0]), "the hung worker was killed");
    let after = children_of(node.pid());
    assert_eq!(after.len(), 2);
    let stopped_at = node.wait_for_increment(0, Duration::from_secs(60));
    node.wait_for_increment(stopped_at + 3, Duration::from_secs(120));
    node.terminate(Duration::from_secs(5));
    assert_consecutive(&verified_increments(dir.path()));
}

#[test]
fn a_killed_worker_is_restarted_and_the_chain_stays_valid() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), 21_200, 2);
    node.wait_for_increment(3, Duration::from_secs(240));
    let workers = children_of(node.pid());
    signal("KILL", workers[0]);
    assert!(
        node.log_contains("data worker restarted", Duration::from_secs(30)),
        "restart logged"
    );
    let after = children_of(node.pid());
    assert_eq!(after.len(), 2);
    assert!(!after.contains(&workers[0]));
    node.wait_for_increment(10, Duration::from_secs(120));
    node.terminate(Duration::from_secs(5));
    let chain = verified_increments(dir.path());
    assert!(chain.len() >= 9);
    assert_consecutive(&chain);
}

#[test]
fn sigkill_at_random_moments_keeps_the_chain_continuous() {
    let dir = tempfile::tempdir().unwrap();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    eprintln!("kill timing seed {seed}");
    let mut x = u64::from(seed) | 1;
    let mut last = 0;
    for kill in 0..20 {
        let mut node = start(dir.path(), 21_300, 1);
        // Let it make progress past what earlier runs reached (so every round stores at
        // least one increment), then kill it somewhere in the next few.
        // (`last` must count the increment that ended the wait: when it stayed behind,
        // a slow round could end on increments an earlier round already stored.)
        last = node.wait_for_increment(last + 2, Duration::from_secs(120));
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::thread::sleep(Duration::from_millis(x % 700));
        let workers = children_of(node.pid());
        node.child.kill().unwrap();
        node.child.wait().unwrap();
        while let Ok(i) = node.increments.try_recv() {
            last = last.max(i);
        }
        // Workers notice their parent is gone and exit by themselves.
        assert!(
            all_exit(&workers, Duration::from_secs(10)),
            "kill {kill}: a worker outlived a killed node"
        );
    }
    let chain = verified_increments(dir.path());
    assert!(
        chain.len() >= 10,
        "{} increments after 20 kills",
        chain.len()
    );
    assert_consecutive(&chain);
}

/// `qnode run --devnet` with one worker from `worker_port`, listening on `listen`: its
/// stderr, once it was refused.
fn refused_worker_port(dir: &Path, worker_port: &str, listen: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_qnode"))
        .args(["run", "--devnet", "--devnet-setup-powers", "128"])
        .args(["--workers", "1", "--worker-base-port", worker_port])
        .arg("--config-dir")
        .arg(dir)
        .args(["--listen", listen])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_taken_worker_port_is_named_with_the_option_to_change_it() {
    let dir = tempfile::tempdir().unwrap();
    let _taken = std::net::TcpListener::bind("127.0.0.1:21400").unwrap();
    // Not the default p2p port: another test's node may hold it.
    let stderr = refused_worker_port(dir.path(), "21400", "/ip4/127.0.0.1/tcp/0");
    assert!(
        stderr.contains("port 127.0.0.1:21400 is already in use"),
        "{stderr}"
    );
    assert!(stderr.contains("--worker-base-port"), "{stderr}");
    assert!(
        !dir.path().join(qnode_store::STORE_FILE).exists(),
        "a start that fails writes no store"
    );

    // Worker ports over the node's own P2P port: refused the same way, before the store
    // is touched.
    let stderr = refused_worker_port(dir.path(), "21450", "/ip4/127.0.0.1/tcp/21450");
    assert!(
        stderr.contains("port 127.0.0.1:21450 is already in use"),
        "{stderr}"
    );
    assert!(!dir.path().join(qnode_store::STORE_FILE).exists());
}

#[test]
fn remote_workers_are_retried_until_they_answer_for_their_own_core() {
    let dir = tempfile::tempdir().unwrap();
    let worker = |port: u16, core: &str| {
        Command::new(env!("CARGO_BIN_EXE_qnode"))
            .args(["worker", "--core", core, "--difficulty-divisor", "10000"])
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let stop = |mut w: std::process::Child| {
        let _ = w.kill();
        let _ = w.wait();
    };
    let first = worker(21_600, "0");
    let node = spawn(
        dir.path(),
        &[
            "--worker-addr",
            "http://127.0.0.1:21600",
            "--worker-addr",
            "http://127.0.0.1:21601",
        ],
    );
    assert!(
        node.log_contains("worker call failed; retrying", Duration::from_secs(120)),
        "the unreachable worker is reported"
    );
    // A worker for another core refuses, as the original's does, naming both cores.
    let misplaced = worker(21_601, "0");
    assert!(
        node.log_contains("proves for core 0, not core 1", Duration::from_secs(60)),
        "a worker of another core is refused"
    );
    stop(misplaced);
    let second = worker(21_601, "1");
    assert!(
        node.log_contains("increment=2 ", Duration::from_secs(60)),
        "the loop goes on once it answers"
    );
    node.terminate(Duration::from_secs(5));
    stop(first);
    stop(second);
    assert!(!verified_increments(dir.path()).is_empty());
}

#[test]
fn a_stopped_nodes_store_is_read_without_writes_and_its_key_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let node = start(dir.path(), 21_500, 1);
    node.wait_for_increment(4, Duration::from_secs(120));
    node.terminate(Duration::from_secs(5));
    let peer = crate::common::text(&crate::common::qnode(&["peer-id", "--config-dir", d]).stdout);
    let store = dir.path().join("store.redb");
    let snapshot = || {
        (
            std::fs::read(&store).unwrap(),
            std::fs::metadata(&store).unwrap().modified().unwrap(),
        )
    };
    let before = snapshot();
    let key = dir.path().join("node-key");
    std::fs::remove_file(&key).unwrap();
    let reads: [&[&str]; 5] = [
        &["proofs", "--verify"],
        &["frames"],
        &["db", "check"],
        &["db", "stats"],
        &["db", "version"],
    ];
    for args in reads {
        let out = crate::common::qnode(&[args, &["--config-dir", d]].concat());
        assert!(
            out.status.success(),
            "{args:?}: {}",
            crate::common::text(&out.stderr)
        );
    }
    assert!(!key.exists(), "a read-only command created a key");
    assert!(snapshot() == before, "store bytes or mtime changed");

    // Without its key the node refuses to start, names the chain's peer and the way out,
    // and writes nothing.
    let mut refused = spawn(
        dir.path(),
        &["--workers", "1", "--worker-base-port", "21500"],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = refused.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "a start without its key was not refused"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(!status.success());
    let log: Vec<String> = refused.log.iter().collect();
    let log = log.join("\n");
    assert!(
        log.contains(peer.trim()) && log.contains("--new-identity"),
        "{log}"
    );
    assert!(!key.exists(), "a refused start created a key");
    assert!(snapshot() == before, "a refused start changed the store");
}

#[test]
fn a_node_with_fewer_cores_than_its_peers_require_says_so_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let node = spawn(
        dir.path(),
        &[
            "--workers",
            "1",
            "--worker-base-port",
            "21650",
            "--min-peer-cores",
            "3",
        ],
    );
    assert!(
        node.log_contains(
            "reports 2 cores (1 workers + its own), but peers require 3",
            Duration::from_secs(120)
        ),
        "no warning about the cores it reports"
    );
    node.terminate(Duration::from_secs(5));
}

#[test]
fn with_json_logs_every_line_of_the_node_and_its_workers_is_json_on_stderr_and_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let node = spawn(
        dir.path(),
        &[
            &["--workers", "2", "--worker-base-port", "21800"][..],
            &["--log-format", "json", "--log-file", "node.log"],
        ]
        .concat(),
    );
    let deadline = Instant::now() + Duration::from_secs(240);
    let (mut lines, mut from_workers) = (0, 0);
    loop {
        assert!(Instant::now() < deadline, "no increment proved");
        let Ok(line) = node.log.recv_timeout(Duration::from_secs(1)) else {
            continue;
        };
        let value: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("line {lines} is not JSON ({e}): {line}"));
        lines += 1;
        if value["target"]
            .as_str()
            .is_some_and(|t| t.starts_with("qnode_worker"))
        {
            from_workers += 1;
        }
        if value["message"] == "increment proved" {
            break;
        }
    }
    assert!(
        from_workers >= 2,
        "each worker logged: {from_workers} of {lines} lines"
    );
    node.terminate(Duration::from_secs(5));
    // The log file has the workers' lines too, each whole and JSON.
    let file = std::fs::read_to_string(dir.path().join("node.log")).unwrap();
    let in_file = file
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| {
            v["target"]
                .as_str()
                .is_some_and(|t| t.starts_with("qnode_worker"))
        })
        .count();
    assert!(in_file >= 2, "{in_file} worker lines in the log file");
}
